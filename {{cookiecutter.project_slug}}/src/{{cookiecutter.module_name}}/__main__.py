"""Entry point for `python -m {{ cookiecutter.module_name }}`."""

from .cli import main

raise SystemExit(main())
