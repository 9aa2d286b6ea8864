"""The same generated code, unchanged, against a team tracking server: a real `mlflow server`."""

from __future__ import annotations

import pytest

from tests.helpers import Combo, registry_versions

pytestmark = pytest.mark.slow


def test_pipeline_promote_and_predict_against_mlflow_server(
    install_project, mlflow_server: str, shared_venv
) -> None:
    project = install_project(Combo(task="classification", linting="ruff", docker="y"))
    env = {"MLFLOW_TRACKING_URI": mlflow_server, "GITHUB_SHA": "c" * 40}

    pipeline = project.make("pipeline", env=env)
    assert pipeline.returncode == 0, pipeline.stdout + pipeline.stderr
    promote = project.make("promote", f"GIT_SHA={'c' * 40}", env=env)
    assert promote.returncode == 0, promote.stdout + promote.stderr
    (project.path / "new.csv").write_text(
        "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n"
    )
    predict = project.make("predict", "INPUT=new.csv", "OUTPUT=preds.csv", env=env)
    assert predict.returncode == 0, predict.stdout + predict.stderr

    (version,) = registry_versions(shared_venv, mlflow_server, project.combo.slug, project.path)
    assert version["version"] == 1
    assert version["aliases"] == ["production", "staging"]
    assert (project.path / "preds.csv").read_text().splitlines()[1].startswith("setosa,")
    assert not (project.path / "mlflow.db").exists(), "the server, not a local store, was used"
