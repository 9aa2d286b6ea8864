"""Entry point for `python -m {{ cookiecutter.module_name }}`."""

import sys

from .cli import main

sys.exit(main())
