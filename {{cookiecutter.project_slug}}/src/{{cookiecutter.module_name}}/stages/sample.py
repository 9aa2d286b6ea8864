"""`data`: write the bundled sample dataset (iris or diabetes) to data.path."""

from __future__ import annotations

import argparse

from ..config import Settings
from ..data import write_sample
from ..schema import Schema


def main(args: argparse.Namespace, settings: Settings, schema: Schema | None) -> str:
    return f"wrote {write_sample(settings.task, settings.data.path, force=args.force)}"
