"""Shared fixtures: every test runs in its own scratch project with its own MLflow store.

The tests never read or write the project's own data (``data.path``) or schema: a scratch
project gets the bundled sample at a test-owned path, described by a schema inferred from it, so
the suite passes whatever data the project holds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.module_name }} import data
from {{ cookiecutter.module_name }}.stages import schema

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TASK = "{{ cookiecutter.task }}"
# Test-owned locations inside the scratch project (never the sample's own path).
DATA_PATH = "data/raw/training.csv"
SCHEMA_FILE = "config/test_schema.yaml"


def _sample_schema(task: str, scratch: Path) -> str:
    """schema.yaml text for the bundled sample, inferred from it."""
    sample = data.write_sample(task, scratch / "sample.csv")
    frame = data.read_csv(sample)
    return schema.to_yaml(schema.infer(frame, "target", task), sample, len(frame))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch project as the working directory: the project's config (model, gate, registry)
    pointed at test-owned data and schema, with no data written yet and a private store."""
    return scratch_project(tmp_path, monkeypatch)


def scratch_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The ``project`` fixture's work, for fixtures of a wider scope."""
    shutil.copytree(PROJECT_ROOT / "config", tmp_path / "config")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("GITHUB_SHA", "a" * 40)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)  # no test uses a cluster by chance

    def scratch(raw: dict) -> None:
        raw["data"].update(path=DATA_PATH, schema_file=SCHEMA_FILE, target="target")
        # The thresholds were set for the project's data, not for the sample: tests that check
        # the gate set their own.
        for criterion in raw["gate"]["criteria"]:
            criterion["threshold"] = -1e9 if criterion["direction"] == "higher" else 1e9

    (tmp_path / SCHEMA_FILE).write_text(_sample_schema(_task(tmp_path), tmp_path / "reference"))
    edit_config(tmp_path, scratch)
    return tmp_path


def _task(project: Path) -> str:
    return yaml.safe_load((project / "config" / "pipeline.yaml").read_text())["task"]


def edit_config(project: Path, mutate) -> None:
    """Change config/pipeline.yaml in the scratch project."""
    path = project / "config" / "pipeline.yaml"
    raw = yaml.safe_load(path.read_text())
    mutate(raw)
    path.write_text(yaml.safe_dump(raw))
