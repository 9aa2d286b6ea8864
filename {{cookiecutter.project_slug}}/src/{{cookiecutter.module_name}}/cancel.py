"""Cancellation (Ctrl-C, a cancelled CI job: SIGINT, then SIGTERM, or a closed terminal: SIGHUP)
unwinds the stage instead of killing it, so an open MLflow run ends FAILED. (SIGKILL cannot be
caught: a run killed that way stays RUNNING until the next command that logs ends it FAILED, once
``alive`` says its process is gone; see tracking.end_abandoned.)

While a run is open the signal is held and raised at the next checkpoint: raised inside the
tracking store's own code it would interrupt a database transaction (SQLite then reports "database
is locked" and the run stays RUNNING), or land before the ``with`` block that ends the run owns it.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class _Held:
    active = False
    pending: int | None = None


def unwind_on_cancel() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _cancelled)


def _raise(signum: int) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def _cancelled(signum: int, frame: object) -> None:
    if _Held.active:
        _Held.pending = signum
    else:
        _raise(signum)


def _checkpoint() -> None:
    signum, _Held.pending = _Held.pending, None
    if signum is not None:
        _raise(signum)


@contextmanager
def held() -> Iterator[Callable[[], None]]:
    """Hold cancellation inside the block; the yielded ``checkpoint()`` (and the block's end)
    raises one that arrived meanwhile."""
    _Held.active = True
    try:
        yield _checkpoint
    finally:
        _Held.active = False
    _checkpoint()


def alive(pid: int) -> bool:
    """Whether a process with id ``pid`` exists on this machine."""
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, run by another user
        return True
    return True
