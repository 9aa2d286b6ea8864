"""Wall-clock seconds per pipeline stage, written to reports/timings.json after each command;
and the imports section, timed as "imports", during which the garbage collector rests."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_seconds: dict[str, float] = {}


@contextmanager
def timed(stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        _seconds[stage] = _seconds.get(stage, 0.0) + time.perf_counter() - start


# Whether this process ends with its command: set by cli.main when it runs as the program
# (`python -m`, the project's script), never in the tests, a Prefect worker or a notebook.
_PROCESS = {"ends_with_command": False}


def ends_with_command(ends: bool = True) -> None:
    """Say whether this process ends with the command it runs (see importing)."""
    _PROCESS["ends_with_command"] = ends


def command_ended() -> None:
    """In a process that ends with its command, freeze everything still alive: Python's last
    collections at shutdown need not scan it (about 1.4 s of `make pipeline` on the sample).
    Shutdown itself still runs: atexit handlers, logging's flush, weakref.finalize callbacks,
    and objects freed as their references go; objects held only by reference cycles are left
    to the operating system, which frees the process's memory anyway."""
    if _PROCESS["ends_with_command"]:
        gc.freeze()


@contextmanager
def importing() -> Iterator[None]:
    """Import inside this block (timed as "imports"), with the garbage collector paused.

    What a command imports (MLflow, scikit-learn, pandas: about 4,000 modules and 450,000
    objects) lives until the process ends, so Python's default collector, which scans all of it
    again each time enough new objects have piled up, frees nothing: about 0.8 s of `make
    pipeline` on the sample. So the collector is paused while importing, and in a process that
    ends with its command everything alive afterwards is frozen (gc.freeze): later collections,
    which go on as usual, skip it, and what of it is garbage in a cycle is never collected
    before the process ends. A long-lived process only gets the pause.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        with timed("imports"):
            yield
    finally:
        if _PROCESS["ends_with_command"]:
            gc.freeze()
        if enabled:
            gc.enable()


def write(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({k: round(v, 4) for k, v in _seconds.items()}, indent=2) + "\n")
