"""Entry point for `python -m {{ cookiecutter.module_name }}`."""

import sys

from . import process

process.begin()

from .cli import main  # noqa: E402  (imported with the collector off: see process.py)

sys.exit(process.end(main()))
