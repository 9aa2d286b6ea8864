"""The same generated code, unchanged, against a team tracking server: a real `mlflow server`."""

from __future__ import annotations

import json

import pytest

from tests.helpers import Combo, run

pytestmark = pytest.mark.slow

QUERY = """
import json, sys
from mlflow.tracking import MlflowClient
client = MlflowClient(tracking_uri=sys.argv[1])
name = sys.argv[2]
out = {alias: int(client.get_model_version_by_alias(name, alias).version)
       for alias in ("staging", "production")}
out["count"] = len(client.search_model_versions(f"name='{name}'"))
print(json.dumps(out))
"""


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

    state = run(
        [str(shared_venv / "bin" / "python"), "-c", QUERY, mlflow_server, project.combo.slug],
        cwd=project.path,
    )
    assert json.loads(state.stdout) == {"staging": 1, "production": 1, "count": 1}, state.stderr
    assert (project.path / "preds.csv").read_text().splitlines()[1].startswith("setosa,")
    assert not (project.path / "mlflow.db").exists(), "the server, not a local store, was used"
