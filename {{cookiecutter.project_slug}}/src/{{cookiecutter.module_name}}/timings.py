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


@contextmanager
def importing() -> Iterator[None]:
    """Import inside this block (timed as "imports"), with the garbage collector paused.

    What a command imports (MLflow, scikit-learn, pandas: about 4,000 modules and 450,000
    objects) lives until the process ends, so Python's default collector, which scans all of it
    again each time enough new objects have piled up, frees nothing: about 0.8 s of `make
    pipeline` on the sample. So the collector is paused while importing and what was imported
    is then frozen (gc.freeze): later collections, which go on as usual, skip it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        with timed("imports"):
            yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def write(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({k: round(v, 4) for k, v in _seconds.items()}, indent=2) + "\n")
