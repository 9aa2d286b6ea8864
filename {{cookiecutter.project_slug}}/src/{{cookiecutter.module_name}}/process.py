"""How a command-line process starts, loads its modules and ends: the cyclic GC kept off the
hundreds of thousands of objects that importing pandas, scikit-learn and MLflow creates.

Every one of those objects lives until the process exits, yet each full collection walks them all
again: about a second of a `make pipeline` on the sample. So ``python -m`` starts with the
collector off (``begin``), each group of imports ends frozen (``loaded``: moved where the
collector never looks) with the collector back on for the data work, and ``end`` freezes what is
left so shutdown does not walk it either. Code that imports the package in a long-lived process
(tests, the API) never calls ``begin``, and ``loaded`` then does nothing.

``leave`` ends the process without tearing the interpreter down: once the exit handlers have run
(MLflow's, logging's, temporary folders', coverage's) and stdout and stderr are flushed, nothing
is left to do but free, one object at a time, the millions of objects the imports made -- a
quarter of a second of every command, for memory the system takes back at once anyway. While
another (non-daemon) thread still runs, or a stream cannot be flushed, the process exits as
usual instead.

``begin`` also fixes glibc's mmap threshold: arrays of a MiB or more get pages of their own and
give them back when freed. By default the threshold grows to the largest block freed so far, so
after the first column of a large table every later column comes from the heap, and the memory
of a frame freed after the split stays with the process for the rest of the fit.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
MMAP_THRESHOLD = 1 << 20


class _State:
    command_line = False


def begin() -> None:
    """Called first by ``python -m``: no cyclic collection until the first imports are done,
    and large blocks returned to the system when freed (glibc only for the threshold)."""
    _State.command_line = True
    gc.disable()
    # Arrow (pandas' text columns) allocates from the same heap then, not from a pool that
    # keeps what it frees; read by pyarrow when it is first imported.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):  # not glibc (musl has no mallopt)
            ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


@contextmanager
def loaded() -> Iterator[None]:
    """Import inside the block with the collector off; freeze what was loaded, then collect as
    usual (the data work that follows does create garbage)."""
    if not _State.command_line:
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        ready()


def ready() -> None:
    """From here the collector runs as usual, on what is created from now on only."""
    if _State.command_line:
        gc.freeze()
        gc.enable()


def end(code: int) -> int:
    """Exit code ``code``, after freezing every object so interpreter shutdown skips the walk."""
    if _State.command_line:
        gc.freeze()
    return code


def leave(code: int) -> NoReturn:
    """Exit with ``code`` once the exit handlers have run, skipping the interpreter's teardown
    (see above); as ``sys.exit`` does where that is not safe."""
    end(code)
    if _State.command_line and not _other_threads() and _flushed():
        atexit._run_exitfuncs()  # what a normal exit runs first (CPython)
        if _flushed():  # the handlers may have written too
            os._exit(code)
    sys.exit(code)


def _other_threads() -> bool:
    """Threads a normal exit would wait for."""
    main = threading.main_thread()
    return any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate())


def _flushed() -> bool:
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):  # a closed pipe or stream: let the usual exit report it
        return False
    return True
