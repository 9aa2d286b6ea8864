"""`pipeline`: validate -> train -> gate -> register in one process, the data read once."""

from __future__ import annotations

import argparse
import time

from ..config import Settings
from ..provenance import allow_dirty_from_env, check_provenance, current_commit
from ..schema import Schema
from .gate import run_gate
from .register import register, registered_line
from .train import summary, train
from .validate import validate


def main(args: argparse.Namespace, settings: Settings, schema: Schema) -> str:
    allow_dirty = allow_dirty_from_env() if args.allow_dirty is None else args.allow_dirty
    # Refused before the work, not after it: the tree register would refuse.
    check_provenance(current_commit(), allow_dirty)
    started = time.perf_counter()
    frame = validate(settings, schema)
    print(timed_line(f"validate: {len(frame)} rows valid", started), flush=True)
    started = time.perf_counter()
    record = train(settings, schema, frame)
    print(timed_line(summary(settings, record), started), flush=True)
    started = time.perf_counter()
    run_gate(settings, schema, record, frame)
    print(timed_line("gate: passed", started), flush=True)
    found = register(settings, schema, allow_dirty=allow_dirty, frame=frame)
    return registered_line(settings, *found)


def timed_line(line: str, started: float) -> str:
    """``line`` with the seconds since ``started``."""
    return f"{line} ({time.perf_counter() - started:.1f} s)"
