"""How a command-line process starts, loads its modules and ends: the cyclic GC kept off the
hundreds of thousands of objects that importing pandas, scikit-learn and MLflow creates.

Every one of those objects lives until the process exits, yet each full collection walks them all
again: about a second of a `make pipeline` on the sample. So ``python -m`` starts with the
collector off (``begin``), each group of imports ends frozen (``loaded``: moved where the
collector never looks) with the collector back on for the data work, and ``end`` freezes what is
left so shutdown does not walk it either. Code that imports the package in a long-lived process
(tests, the API) never calls ``begin``, and ``loaded`` then does nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


class _State:
    command_line = False


def begin() -> None:
    """Called first by ``python -m``: no cyclic collection until the first imports are done."""
    _State.command_line = True
    gc.disable()


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
