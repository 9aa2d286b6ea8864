"""Messages beside a stage's result: one line on stderr, and an annotation in GitHub Actions;
progress of a long step, on a terminal only.

Messages quote the user's data (column names, values), so each is made safe to print first: one
line whatever the data holds (a line break inside a value would start a new line, which GitHub
Actions reads as a workflow command when it begins with ``::``) and of bounded length (a 50 MB
field is shown by its first characters and a count).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

MAX_MESSAGE = 2000  # characters of a message shown; the rest is counted


def one_line(message: str) -> str:
    """``message`` on one line (line breaks shown as ``\\n``), cut to MAX_MESSAGE characters."""
    text = message.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")
    if len(text) > MAX_MESSAGE:
        text = f"{text[:MAX_MESSAGE]}… ({len(text) - MAX_MESSAGE:,} more characters)"
    return text


def plain(text: str) -> str:
    """A stage's result for stdout: its lines as they are, except that none can be read as a
    GitHub Actions workflow command (a line starting with ``::``)."""
    return "\n".join(
        f": {line}" if line.lstrip().startswith("::") else line for line in text.split("\n")
    )


def _escape_data(text: str) -> str:
    # GitHub's escaping of a workflow command's message (actions/toolkit, command.ts).
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _say(kind: str, title: str, message: str) -> None:
    shown = one_line(message)
    print(f"{kind}: {shown}", file=sys.stderr)
    # A notice in the run summary when GitHub Actions runs the stage, plain text otherwise.
    if os.environ.get("GITHUB_ACTIONS") == "true":
        print(f"::{kind} title={_escape_property(title)}::{_escape_data(shown)}")


def notice(title: str, message: str) -> None:
    """Something the user should know that changes nothing (e.g. the sample stands in)."""
    _say("notice", title, message)


def warning(title: str, message: str) -> None:
    """Something that will stop a later stage unless the user acts (e.g. unversioned data)."""
    _say("warning", title, message)


def error(title: str, message: str) -> None:
    """Why a stage stopped: the one line a user reads (the exit code says which kind)."""
    _say("error", title, message)


def progress_shown() -> bool:
    """Progress is for a person watching a terminal: shown when stderr is one and no CI system
    (which sets CI) runs the command, so logs and captured output never hold it."""
    return sys.stderr.isatty() and not os.environ.get("CI")


@contextmanager
def progress(label: str, unit: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """``with progress("reading data.csv", "rows") as advance:`` -- each ``advance(done)``
    rewrites one status line on stderr ("reading data.csv: 40,000 rows"), cleared when the
    block ends. Nothing at all is written unless progress_shown()."""
    if not progress_shown():
        yield lambda done: None
        return
    label = one_line(label)

    def advance(done: int) -> None:
        count = f"{done:,}/{total:,}" if total is not None else f"{done:,}"
        sys.stderr.write(f"\r{label}: {count} {unit}\x1b[K")  # \x1b[K: erase the rest
        sys.stderr.flush()

    advance(0)
    try:
        yield advance
    finally:
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()


def verbosity(level: int) -> int:
    """``level`` for a library's own progress lines (scikit-learn's search prints a line per
    fitted fold, on stdout) when progress is shown and stdout is a terminal too; else 0."""
    return level if progress_shown() and sys.stdout.isatty() else 0
