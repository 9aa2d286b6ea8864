"""Generated pipeline end to end through its Make targets, registry checked with MLflow."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.helpers import Combo, registry_versions

pytestmark = pytest.mark.slow

TASKS = [
    Combo(task="classification", linting="ruff"),
    Combo(task="regression", linting="ruff"),
]
EXIT_DATA, EXIT_GATE = 3, 4


def registry(project, venv: Path) -> dict:
    """Version count and the staging version's tags in the project's local store."""
    versions = registry_versions(venv, "sqlite:///mlflow.db", project.combo.slug, project.path)
    staging = [v for v in versions if "staging" in v["aliases"]]
    return {
        "count": len(versions),
        "staging": staging[0]["version"] if staging else None,
        "tags": staging[0]["tags"] if staging else {},
    }


@pytest.fixture(scope="module", params=TASKS, ids=lambda combo: combo.task)
def pipeline_project(request: pytest.FixtureRequest, install_project):
    project = install_project(request.param)
    result = project.make("pipeline")
    assert result.returncode == 0, result.stdout + result.stderr
    return project


def test_make_pipeline_registers_version_1_with_alias_staging(pipeline_project, shared_venv):
    state = registry(pipeline_project, shared_venv)
    assert state["count"] == 1
    assert state["staging"] == 1
    assert state["tags"]["gate"] == "passed"
    reports = pipeline_project.path / "reports"
    for name in ["validation.json", "metrics.json", "gate.json", "report.md"]:
        assert (reports / name).exists(), name
    assert list((reports / "figures").glob("*.png"))


def test_unpassable_gate_exits_with_gate_code_and_registers_nothing(pipeline_project, shared_venv):
    config = pipeline_project.path / "config" / "pipeline.yaml"
    original = config.read_text()
    raw = yaml.safe_load(original)
    for criterion in raw["gate"]["criteria"]:
        criterion["threshold"] = 1e9 if criterion["direction"] == "higher" else -1e9
    config.write_text(yaml.safe_dump(raw))
    try:  # an uncommitted edit on purpose: outside CI register would refuse it before the gate
        result = pipeline_project.make("pipeline", env={"ALLOW_DIRTY": "1"})
    finally:
        config.write_text(original)

    assert result.returncode != 0
    assert f"Error {EXIT_GATE}" in result.stderr
    assert "error: gate failed" in result.stderr
    assert registry(pipeline_project, shared_venv)["count"] == 1


def _corrupt(kind: str, task: str, text: str) -> str:
    lines = text.splitlines()
    header, rows = lines[0].split(","), [line.split(",") for line in lines[1:]]
    if kind == "missing-column":
        return "\n".join(",".join(r[1:]) for r in [header, *rows]) + "\n"
    if kind == "empty":
        return ""
    row = list(rows[0])
    if kind == "nulls":
        row[0] = ""
    elif kind == "out-of-range":
        row[0] = "-1000"
    elif kind == "wrong-dtype":
        row[0] = "abc"
    elif kind == "unknown-label":
        row[-1] = "dragon" if task == "classification" else "-5"
    return "\n".join(",".join(r) for r in [header, row, *rows[1:]]) + "\n"


CORRUPTIONS = {
    "missing-column": "present",
    "nulls": "nullable",
    "out-of-range": "min",
    "wrong-dtype": "dtype",
    "unknown-label": "",
    "empty": "the file is empty",
}


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_corrupted_data_exits_with_data_code_and_registers_nothing(
    pipeline_project, shared_venv, kind: str
):
    data = next((pipeline_project.path / "data" / "raw").glob("*.csv"))
    original = data.read_text()
    data.write_text(_corrupt(kind, pipeline_project.combo.task, original))
    try:
        result = pipeline_project.make("pipeline")
    finally:
        data.write_text(original)

    assert f"Error {EXIT_DATA}" in result.stderr, result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1
    assert CORRUPTIONS[kind] in error_lines[0]
    assert registry(pipeline_project, shared_venv)["count"] == 1
