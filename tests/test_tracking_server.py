"""The generated code, unchanged, against the team stack (MLflow with authentication on
PostgreSQL, artifacts in S3): each CI identity does its part and the server refuses the rest."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SHARED_VENV
from tests.helpers import Combo, registry_versions, tools_env
from tests.team_stack import role_env

pytestmark = pytest.mark.slow
SHA = "c" * 40


def _one_line_error(result) -> str:
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stdout + result.stderr
    return errors[0]


def test_roles_on_the_team_stack_pipeline_promote_predict(
    install_project, team_stack, shared_venv: Path
) -> None:
    project = install_project(Combo(task="classification", linting="ruff", docker="y"))
    secrets = team_stack.provision(project.path, shared_venv)
    reader, registrar, promoter = (
        role_env(secrets, role) | {"GITHUB_SHA": SHA}
        for role in ("reader", "registrar", "promoter")
    )
    print(f"team stack started in {team_stack.started_in:.1f} s (budget 20 s)")

    # A pull request's identity trains and gates, and the server refuses it the registry.
    pipeline = project.make("pipeline", env=reader)
    assert pipeline.returncode != 0
    assert "error code 403" in _one_line_error(pipeline)
    assert (
        registry_versions(
            shared_venv, team_stack.uri, project.combo.slug, project.path, team_stack.admin
        )
        == []
    )

    # The registrar registers once, however many run at the same time, and cannot promote.
    make = ["make", "--no-print-directory", "register", f"VENV={SHARED_VENV}"]
    parallel = [
        subprocess.Popen(
            make,
            cwd=project.path,
            env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", **tools_env(), **registrar},
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    outcomes = [(p.wait(timeout=600), p.stderr.read()) for p in parallel]
    assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
    refused = project.make("promote", f"GIT_SHA={SHA}", env=registrar)
    assert refused.returncode != 0
    assert "may not move alias 'production'" in _one_line_error(refused)

    # The promoter moves production; the reader predicts with it and compares against it.
    promote = project.make("promote", f"GIT_SHA={SHA}", env=promoter)
    assert promote.returncode == 0, promote.stdout + promote.stderr
    (project.path / "new.csv").write_text(
        "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n"
    )
    predict = project.make("predict", "INPUT=new.csv", "OUTPUT=preds.csv", env=reader)
    assert predict.returncode == 0, predict.stdout + predict.stderr
    gate = project.make("gate", env=reader)
    assert gate.returncode == 0, gate.stdout + gate.stderr

    (version,) = registry_versions(
        shared_venv, team_stack.uri, project.combo.slug, project.path, team_stack.admin
    )
    assert version["aliases"] == ["production", "staging"]
    assert (project.path / "preds.csv").read_text().splitlines()[1].startswith("setosa,")
    assert "version 1 (`production`)" in (project.path / "reports" / "report.md").read_text()
    assert not (project.path / "mlflow.db").exists(), "the server, not a local store, was used"
