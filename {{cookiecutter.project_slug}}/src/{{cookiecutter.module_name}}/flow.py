"""The pipeline as a Prefect flow: the stage functions of `make pipeline` (stages/) as tasks, no
second copy of the logic. The registry steps are retried on registry errors (a server that
hiccups), never on a failed gate or bad data.

`make flow` runs it once (a local, temporary Prefect server); `make flow-serve` serves it as a
deployment on the schedule in FLOW_CRON (Prefect's `flow.serve`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from . import console, reports
from .config import DEFAULT_CONFIG, load
from .errors import EXIT_OK, PipelineError, RegistryError
from .provenance import allow_dirty_from_env, check_provenance, current_commit
from .stages import gate as gate_stage
from .stages import register as register_stage
from .stages import train as train_stage
from .stages import validate as validate_stage

# Registry steps: attempts after the first, and seconds between them.
REGISTRY_RETRIES = int(os.environ.get("FLOW_REGISTRY_RETRIES", "2"))
REGISTRY_RETRY_DELAY = float(os.environ.get("FLOW_REGISTRY_RETRY_DELAY", "10"))


def registry_error(task_, task_run, state) -> bool:
    """Retry only what the registry refused or could not answer (exit 5 errors)."""
    return isinstance(state.result(raise_on_failure=False), RegistryError)


# Settings and DataFrames are passed between tasks in memory: no result caching or persisting.
STAGE: dict[str, Any] = {"cache_policy": NO_CACHE, "persist_result": False}
REGISTRY_STAGE: dict[str, Any] = STAGE | {
    "retries": REGISTRY_RETRIES,
    "retry_delay_seconds": REGISTRY_RETRY_DELAY,
    "retry_condition_fn": registry_error,
}


@task(name="validate", **STAGE)
def validate(settings, schema) -> Any:
    return validate_stage.validate(settings, schema)


@task(name="train", **STAGE)
def train(settings, schema, frame) -> dict[str, Any]:
    return train_stage.train(settings, schema, frame)


@task(name="gate", **REGISTRY_STAGE)  # reads production from the registry
def gate(settings, schema, record: dict[str, Any], frame) -> bool:
    return gate_stage.run_gate(settings, schema, record, frame).passed


@task(name="register", **REGISTRY_STAGE)
def register(settings, schema) -> str:
    version, _ = register_stage.register(settings, schema, allow_dirty=allow_dirty_from_env())
    return str(version.version)


@flow(name="{{ cookiecutter.project_slug }}-pipeline", log_prints=True)
def pipeline(config: str = str(DEFAULT_CONFIG)) -> str:
    """validate -> train -> gate -> register; returns the registered version."""
    settings, schema = load(Path(config))
    reports.check_writable(settings)
    check_provenance(current_commit(), allow_dirty_from_env())
    frame = validate(settings, schema)
    record = train(settings, schema, frame)
    gate(settings, schema, record, frame)
    version = register(settings, schema)
    print(f"registered {settings.registry.model_name} version {version}")
    return version


def main(argv: list[str]) -> int:
    """`python -m {{ cookiecutter.module_name }}.flow [serve]`: the CLI's exit codes and one-line
    errors (Prefect logs the failed task run above it)."""
    if argv == ["serve"]:
        cron = os.environ.get("FLOW_CRON", "0 6 * * 1")
        pipeline.serve(name="{{ cookiecutter.project_slug }}", cron=cron)
        return EXIT_OK
    try:
        pipeline()
    except PipelineError as error:
        console.error(type(error).__name__, str(error))
        return error.exit_code
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
