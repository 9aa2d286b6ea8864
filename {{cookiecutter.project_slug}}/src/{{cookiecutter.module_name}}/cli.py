"""Command line of the pipeline (python -m <package> <stage>); the Make targets call it."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import cancel, console
from .config import DEFAULT_CONFIG, check_reports_dir, load_settings
from .errors import EXIT_OK, PipelineError
from .timings import timed
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


def run(argv: list[str]) -> str:
    """Run one command; return the line to print on success, with its time (but see UNTIMED)."""
    started = time.perf_counter()
    args = _parser().parse_args(argv)
    line = _run(args)
    return line if args.command in UNTIMED else _timed_line(line, started)


def _run(args: argparse.Namespace) -> str:
    # `schema` writes the schema file, so it must run while the config does not match it yet.
    settings = load_settings(args.config, check_schema=args.command != "schema")
    # The data commands need neither MLflow nor the model code: they skip those imports (seconds).
    if args.command in DATA_COMMANDS:
        return _data_command(args, settings)
    check_reports_dir(settings)
    try:
        if args.command == "validate":  # pandas only (stages/validate.py): no sklearn, no MLflow
            from .stages.validate import validate

            frame = validate(settings)
            return f"data valid: {len(frame)} rows -> {settings.reports_dir / 'validation.json'}"
        with timed("imports"):
            from . import jobs

            if args.command in TRAINING_COMMANDS:
                from .model import preload

                preload(settings.model)
        if getattr(args, "allow_dirty", False) is None:
            args.allow_dirty = jobs.allow_dirty_from_env()
        return _dispatch(args, settings, jobs)
    finally:
        write_timings(settings.reports_dir / "timings.json")


DATA_COMMANDS = ("data", "schema"{% if cookiecutter.data_versioning == "dvc" %}, "data-pull", "data-push"{% endif %})
TRAINING_COMMANDS = ("train", "pipeline", "tune")


def _data_command(args: argparse.Namespace, settings) -> str:
    """Run a command that only handles data (one of DATA_COMMANDS)."""
    if args.command == "data":
        from .data import write_sample

        return f"wrote {write_sample(settings.task, settings.data.path, force=args.force)}"
{%- if cookiecutter.data_versioning == "dvc" %}
    if args.command in ("data-pull", "data-push"):
        from .stages import dvc

        return dvc.pull(settings) if args.command == "data-pull" else dvc.push(settings)
{%- endif %}
    from .stages import schema

    return schema.run(settings, args.config, args.input, args.target, args.force)


def _dispatch(args: argparse.Namespace, settings, jobs) -> str:
    if args.command == "train":
        return _trained(settings, jobs.train(settings))
    if args.command == "gate":
        jobs.run_gate(settings)
        return f"gate passed -> {settings.reports_dir / 'report.md'}"
    if args.command == "register":
        registered = jobs.register(settings, args.pr_number, args.pr_head_sha, args.allow_dirty)
        return _registered(*registered, settings)
    if args.command == "pipeline":
        # Refused before the work, not after it: the tree register would refuse.
        jobs.check_provenance(jobs.current_commit(), args.allow_dirty)
        started = time.perf_counter()
        frame = jobs.validate(settings)
        print(_timed_line(f"validate: {len(frame)} rows valid", started), flush=True)
        started = time.perf_counter()
        record = jobs.train(settings, frame)
        print(_timed_line(_trained(settings, record), started), flush=True)
        started = time.perf_counter()
        jobs.run_gate(settings, record, frame)
        print(_timed_line("gate: passed", started), flush=True)
        registered = jobs.register(settings, allow_dirty=args.allow_dirty, frame=frame)
        return _registered(*registered, settings)
    alias = settings.registry.production_alias
    if args.command == "promote":
        promotion = jobs.promote(settings, args.git_sha, args.version)
        before = f"version {promotion.previous}" if promotion.previous else "none"
        return (
            f"{settings.registry.model_name} version {promotion.version} is now @{alias} "
            f"(before: {before})"
        )
    if args.command == "find" and (args.alias or args.production):
        found = jobs.version_by_alias(settings, args.alias or alias)
        return str(found.version) if found else "none"
    if args.command == "find":
        return str(jobs.find_version(settings, args.git_sha).version)
    if args.command == "rollback":
        return f"@{alias} is back on {jobs.rollback(settings, args.to)}"
    if args.command == "roles":
        from .stages import roles

        return roles.run(settings, dry_run=args.print)
    if args.command == "tune":
        from .search import describe

        return describe(jobs.tune(settings))
    if args.command in ("monitor", "evaluate", "refresh"):
        from .stages import monitor

        if args.command == "refresh":
            return monitor.refresh(settings, args.input)
        if args.command == "monitor":
            report = monitor.monitor(settings, args.input, args.alias)
            return (
                f"no drift: {len(report['drifted_columns'])} of {len(report['columns'])} columns "
                f"drifted -> {settings.reports_dir / 'drift.html'}"
            )
        body = monitor.evaluate(settings, args.input, args.alias)
        shown = ", ".join(f"{check['metric']} {check['candidate']:.4f}" for check in body["checks"])
        return f"meets the gate on {body['rows']} rows: {shown}"
    if args.command == "export":
        path = jobs.export_model(settings, args.output, args.alias, args.version)
        return f"exported the model to {path}"
    if args.command == "example-input":
        frame = jobs.example_input(settings, args.output, args.alias or alias)
        shown = ", ".join(map(str, frame.columns[:8])) + (", ..." if len(frame.columns) > 8 else "")
        return (
            f"wrote {args.output} and {args.output.with_suffix('.json')} (a /predict body): "
            f"{len(frame)} rows of the {len(frame.columns)} columns a request needs ({shown})"
        )
{%- if cookiecutter.serving == "fastapi" %}
    if args.command == "serve":
        from .serving import serve

        serve(args.config, args.alias or alias, args.host, args.port)
        return "server stopped"
{%- endif %}
    if args.command == "card":
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(jobs.model_card(settings, args.alias, args.version))
        return f"wrote {args.output}"
    alias = args.alias or alias
    result = jobs.predict(settings, args.input, args.output, alias)
    warned = f" ({len(result.warnings)} warning(s) above)" if result.warnings else ""
    return f"wrote {result.rows} predictions to {args.output}{warned}"


def _trained(settings, record: dict) -> str:
    """The run and the metrics the gate looks at (all of them are in reports/metrics.json)."""
    names = dict.fromkeys(criterion.metric for criterion in settings.gate.criteria)
    shown = ", ".join(f"{n} {record['metrics'][n]:.4g}" for n in names if n in record["metrics"])
    return f"trained run {record['run_id']}: {shown} -> {settings.reports_dir / 'metrics.json'}"


def _registered(version, created: bool, settings) -> str:
    verb = "registered" if created else "already registered:"
    return (
        f"{verb} {settings.registry.model_name} version {version.version} "
        f"@{settings.registry.staging_alias} (browse with `make mlflow-ui`)"
    )


# No time appended: output read by programs (find: a version number), or instant file writes
# whose line ends in an instruction (data, schema).
UNTIMED = ("find", "data", "schema")


def _timed_line(line: str, started: float) -> str:
    return f"{line} ({time.perf_counter() - started:.1f} s)"


def main(argv: list[str] | None = None) -> int:
    # MLflow configures its loggers when it is first imported (by a stage, after this): at
    # WARNING its INFO lines (store and experiment creation) stay out of the stages' output.
    # MLFLOW_LOGGING_LEVEL=INFO brings them back.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    cancel.unwind_on_cancel()
    try:
        print(console.plain(run(sys.argv[1:] if argv is None else argv)))
    except PipelineError as error:
        console.error(type(error).__name__, str(error))
        return error.exit_code
    return EXIT_OK
