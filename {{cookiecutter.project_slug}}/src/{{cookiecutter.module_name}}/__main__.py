"""Entry point for `python -m {{ cookiecutter.module_name }}`."""

from . import process

process.begin()

from .cli import main  # noqa: E402  (imported with the collector off: see process.py)

process.leave(main())
