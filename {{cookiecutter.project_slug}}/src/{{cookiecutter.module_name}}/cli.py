"""Command line of the pipeline (python -m <package> <command>); the Make targets call it.

Only maps each command to its stage (COMMANDS) and errors to exit codes (errors.py).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from . import cancel, console, reports
from .config import DEFAULT_CONFIG, load
from .errors import EXIT_OK, PipelineError
from .timings import command_ended, ends_with_command, importing
from .timings import write as write_timings

EXIT_CODES = """exit codes:
  0  success
  2  usage or configuration error
  3  data missing, unreadable or invalid against the schema
  4  the candidate model failed the gate (nothing registered)
  5  tracking server, model registry or Dask scheduler problem
  6  monitor: the batch drifted past the thresholds (monitoring: in the config)
  7  evaluate: the model scores below the gate on the new labelled data"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m {{ cookiecutter.module_name }}",
        description="Validate, train, gate, register, promote and serve the model.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="pipeline settings")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    sample = command("data", "write the bundled sample dataset to data.path (never over a file)")
    sample.add_argument("--force", action="store_true", help="replace an existing file")
    schema = command("schema", "infer the schema file from a CSV and point data.* at it")
    schema.add_argument("--input", type=Path, help="CSV to describe (default: data.path)")
    schema.add_argument("--target", help="the column to predict (default: data.target)")
    schema.add_argument("--force", action="store_true", help="replace an existing schema file")
{%- if cookiecutter.data_versioning == "dvc" %}
    command("data-pull", "bring data.path to the version its .dvc file records (DVC remote)")
    command("data-push", "version data.path with DVC and upload it to the default remote")
{%- endif %}
    command("validate", "check the data against the schema (reports/validation.json)")
    command("train", "fit, score and track one MLflow run (reports/metrics.json, figures)")
    command("gate", "check thresholds and regression vs production (gate.json, report.md)")
    register = command("register", "register the gated model and set alias staging")
    register.add_argument(
        "--pr-number",
        default=os.environ.get("PR_NUMBER"),
        help="pull request that brought the change (tag)",
    )
    register.add_argument(
        "--pr-head-sha",
        default=os.environ.get("PR_HEAD_SHA"),
        help="head commit of that pull request, whose model check passed (tag)",
    )
    pipeline = command("pipeline", "validate -> train -> gate -> register, in one process")
    for registering in (register, pipeline):
        registering.add_argument(
            "--allow-dirty",
            action="store_true",
            default=None,
            help="register outside CI even without a git commit or with uncommitted changes "
            "(tagged git_dirty=true; default from ALLOW_DIRTY)",
        )
    promote = command("promote", "move alias production to a registered version")
    which = promote.add_mutually_exclusive_group(required=True)
    which.add_argument("--git-sha", help="the commit the version was built from")
    which.add_argument("--version", type=int, help="the registered version number")
    find = command(
        "find", "print the number of the version registered from a commit, or behind an alias"
    )
    sought = find.add_mutually_exclusive_group(required=True)
    sought.add_argument("--git-sha", help="the commit the version was built from")
    sought.add_argument("--alias", help="an alias, e.g. staging ('none' when it is not set)")
    sought.add_argument(
        "--production",
        action="store_true",
        help="the production alias of config/pipeline.yaml ('none' when it is not set)",
    )
    rollback = command("rollback", "move alias production back after a failed release")
    rollback.add_argument(
        "--to",
        required=True,
        type=_version_or_none,
        help="the version production pointed at before, or 'none' to remove the alias",
    )
    roles = command("roles", "create the reader, registrar and promoter users on the server")
    roles.add_argument(
        "--print", action="store_true", help="show the users and grants without changing anything"
    )
    command("tune", "cross-validate the candidates of model.search; register nothing")
    for name, what in (
        ("monitor", "drift of a batch against the production model's training data"),
        ("evaluate", "score the production model on new labelled data, against the gate"),
    ):
        check = command(name, what)
        check.add_argument("--input", type=Path, required=True, help="CSV to check")
        check.add_argument("--alias", help="registry alias to check (default: production)")
    refresh = command("refresh", "append new labelled rows to the training data (data.path)")
    refresh.add_argument("--input", type=Path, required=True, help="labelled CSV to add")
    predict = command("predict", "score a CSV with the production model")
    predict.add_argument("--input", type=Path, required=True, help="CSV to score")
    predict.add_argument("--output", type=Path, required=True, help="CSV to write")
    predict.add_argument("--alias", help="registry alias to use (default: production)")
    example = command("example-input", "write the model's input example: the columns it needs")
    example.add_argument("--output", type=Path, required=True, help="CSV to write (+ .json)")
    example.add_argument("--alias", help="registry alias (default: production)")
{%- if cookiecutter.serving == "fastapi" %}
    serve = command("serve", "serve the production model over HTTP (/health, /predict, /docs)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument("--alias", help="registry alias to serve (default: production)")
{%- endif %}
    export = command("export", "copy the trained candidate (or an aliased version) to a folder")
    export.add_argument("--output", type=Path, required=True, help="folder to write")
    export.add_argument("--alias", help="registry alias to export instead of the candidate")
    export.add_argument("--version", type=int, help="registry version to export")
    card = command("card", "write the model card of a registered version (Markdown)")
    card.add_argument("--output", type=Path, required=True, help="file to write")
    card.add_argument("--alias", help="registry alias (default: production)")
    card.add_argument("--version", type=int, help="registry version (instead of an alias)")
    return parser


def _version_or_none(text: str) -> int | None:
    if text.lower() in ("", "none"):
        return None
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a version number or 'none', got {text!r}")
    return int(text)


# command -> (module, function): each function takes (args, settings, schema) and returns the
# line to print. Imported only when its command runs: `validate` never loads scikit-learn or MLflow.
COMMANDS = {
    "data": ("stages.sample", "main"),
    "schema": ("stages.schema", "main"),
{%- if cookiecutter.data_versioning == "dvc" %}
    "data-pull": ("stages.dvc", "pull_main"),
    "data-push": ("stages.dvc", "push_main"),
{%- endif %}
    "validate": ("stages.validate", "main"),
    "train": ("stages.train", "main"),
    "gate": ("stages.gate", "main"),
    "register": ("stages.register", "main"),
    "pipeline": ("stages.pipeline", "main"),
    "promote": ("stages.register", "promote_main"),
    "find": ("stages.register", "find_main"),
    "rollback": ("stages.register", "rollback_main"),
    "roles": ("stages.roles", "main"),
    "tune": ("stages.tune", "main"),
    "monitor": ("stages.monitor", "main"),
    "evaluate": ("stages.evaluate", "main"),
    "refresh": ("stages.refresh", "main"),
    "predict": ("stages.predict", "main"),
    "example-input": ("stages.predict", "example_main"),
{%- if cookiecutter.serving == "fastapi" %}
    "serve": ("serving", "main"),
{%- endif %}
    "export": ("stages.export", "main"),
    "card": ("stages.export", "card_main"),
}
# Commands that only handle data files: no reports folder, no timings. (Every command but
# `schema`, which writes the schema file, has it read and checked against the config.)
DATA_COMMANDS = ("data", "schema"{% if cookiecutter.data_versioning == "dvc" %}, "data-pull", "data-push"{% endif %})
# No time appended: output read by programs (find: a version number), or instant file writes
# whose line ends in an instruction (data, schema).
UNTIMED = ("find", "data", "schema")


def run(argv: list[str]) -> str:
    """Run one command; return the line to print on success, with its time (but see UNTIMED)."""
    started = time.perf_counter()
    args = _parser().parse_args(argv)
    # Settings and schema are read once here and passed down to the stage.
    settings, schema = load(args.config, check_schema=args.command != "schema")
    module, function = COMMANDS[args.command]
    if args.command in DATA_COMMANDS:
        return _stage(module, function)(args, settings, schema)
    reports.check_writable(settings)
    try:
        with importing():
            stage = _stage(module, function)
        line = stage(args, settings, schema)
    finally:
        write_timings(settings.reports_dir / "timings.json")
    if args.command in UNTIMED:
        return line
    return f"{line} ({time.perf_counter() - started:.1f} s)"


def _stage(module: str, function: str) -> Callable[..., str]:
    return getattr(importlib.import_module(f".{module}", __package__), function)


def main(argv: list[str] | None = None) -> int:
    """The program: `python -m` and the project's script call it with no ``argv``, and their
    process ends with it; the tests pass ``argv`` and go on."""
    # MLflow configures its loggers when it is first imported (by a stage, after this): at
    # WARNING its INFO lines (store and experiment creation) stay out of the stages' output.
    # MLFLOW_LOGGING_LEVEL=INFO brings them back.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    if argv is None:
        ends_with_command()
    cancel.unwind_on_cancel()
    try:
        print(console.plain(run(sys.argv[1:] if argv is None else argv)))
    except PipelineError as error:
        console.error(type(error).__name__, str(error))
        return error.exit_code
    finally:
        command_ended()
    return EXIT_OK
