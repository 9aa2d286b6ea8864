"""The pipeline as a Prefect flow: the stage functions of `make pipeline` (jobs.py) as tasks, no
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

from . import console, jobs
from .config import DEFAULT_CONFIG, check_reports_dir, load_settings
from .errors import EXIT_OK, PipelineError, RegistryError

# Registry steps: attempts after the first, and seconds between them.
REGISTRY_RETRIES = int(os.environ.get("FLOW_REGISTRY_RETRIES", "2"))
REGISTRY_RETRY_DELAY = float(os.environ.get("FLOW_REGISTRY_RETRY_DELAY", "10"))


def registry_error(task_, task_run, state) -> bool:
    """Retry only what the registry refused or could not answer (exit 5 errors)."""
    return isinstance(state.result(raise_on_failure=False), RegistryError)


# Settings and DataFrames are passed between tasks in memory: no result caching or persisting.
STAGE = {"cache_policy": NO_CACHE, "persist_result": False}
REGISTRY_STAGE = STAGE | {
    "retries": REGISTRY_RETRIES,
    "retry_delay_seconds": REGISTRY_RETRY_DELAY,
    "retry_condition_fn": registry_error,
}


@task(name="validate", **STAGE)
def validate(settings) -> Any:
    return jobs.validate(settings)


@task(name="train", **STAGE)
def train(settings, frame) -> dict[str, Any]:
    return jobs.train(settings, frame)


@task(name="gate", **REGISTRY_STAGE)  # reads production from the registry
def gate(settings, record: dict[str, Any], frame) -> bool:
    return jobs.run_gate(settings, record, frame).passed


@task(name="register", **REGISTRY_STAGE)
def register(settings) -> str:
    version, _ = jobs.register(settings, allow_dirty=jobs.allow_dirty_from_env())
    return str(version.version)


@flow(name="{{ cookiecutter.project_slug }}-pipeline", log_prints=True)
def pipeline(config: str = str(DEFAULT_CONFIG)) -> str:
    """validate -> train -> gate -> register; returns the registered version."""
    settings = load_settings(Path(config))
    check_reports_dir(settings)
    jobs.check_provenance(jobs.current_commit(), jobs.allow_dirty_from_env())
    frame = validate(settings)
    record = train(settings, frame)
    gate(settings, record, frame)
    version = register(settings)
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
