"""Messages beside a stage's result: one line on stderr, and an annotation in GitHub Actions."""

from __future__ import annotations

import os
import sys


def _say(kind: str, title: str, message: str) -> None:
    # A notice in the run summary when GitHub Actions runs the stage, plain text otherwise.
    print(f"{kind}: {message}", file=sys.stderr)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        print(f"::{kind} title={title}::{message}")


def notice(title: str, message: str) -> None:
    """Something the user should know that changes nothing (e.g. the sample stands in)."""
    _say("notice", title, message)


def warning(title: str, message: str) -> None:
    """Something that will stop a later stage unless the user acts (e.g. unversioned data)."""
    _say("warning", title, message)


def error(title: str, message: str) -> None:
    """Why a stage stopped: the one line a user reads (the exit code says which kind)."""
    _say("error", title, message)
