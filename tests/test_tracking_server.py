"""The generated code, unchanged, against the team stack (MLflow with authentication on
PostgreSQL, artifacts in S3): each CI identity does its part and the server refuses the rest."""

from __future__ import annotations

import os
import pickle
import subprocess
from pathlib import Path

import pytest
import requests
import yaml

from tests.conftest import SHARED_VENV
from tests.helpers import Combo, registry_versions, tools_env
from tests.team_stack import role_env

pytestmark = pytest.mark.slow
SHA = "c" * 40


class WritesMarker:
    """What a crafted pickle does when it is loaded: run a command of the attacker's."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "code from the model file ran"))


def _one_line_error(result) -> str:
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stdout + result.stderr
    return errors[0]


def _files(uri: str, auth: tuple[str, str], folder: str) -> list[str]:
    """Every file under ``folder`` of the artifact proxy (``<experiment>/...``), recursively."""
    listing = requests.get(
        f"{uri}/api/2.0/mlflow-artifacts/artifacts", params={"path": folder}, auth=auth, timeout=30
    )
    assert listing.ok, listing.text
    found = []
    for entry in listing.json().get("files", []):
        path = f"{folder}/{entry['path']}"
        found += _files(uri, auth, path) if entry["is_dir"] else [path]
    return found


def _made_of(uri: str, auth: tuple[str, str], name: str, version: int) -> dict[str, bytes]:
    """The files a registered version is made of: its model's and its run's, by proxy path."""
    api = f"{uri}/api/2.0/mlflow"
    held = requests.get(
        f"{api}/model-versions/get",
        params={"name": name, "version": version},
        auth=auth,
        timeout=30,
    ).json()["model_version"]
    run = requests.get(
        f"{api}/runs/get", params={"run_id": held["run_id"]}, auth=auth, timeout=30
    ).json()["run"]["info"]
    experiment, model_id = run["experiment_id"], held["source"].removeprefix("models:/")
    paths = _files(uri, auth, f"{experiment}/models/{model_id}/artifacts")
    paths += _files(uri, auth, f"{experiment}/{run['run_id']}/artifacts")
    artifacts = f"{uri}/api/2.0/mlflow-artifacts/artifacts"
    return {
        path: requests.get(f"{artifacts}/{path}", auth=auth, timeout=30).content for path in paths
    }


def test_roles_on_the_team_stack_pipeline_promote_predict(
    install_project, team_stack, shared_venv: Path
) -> None:
    project = install_project(
        Combo(task="classification", linting="ruff", docker="y", serving="fastapi")
    )
    secrets = team_stack.provision(project.path, shared_venv)
    reader, registrar, promoter = (
        role_env(secrets, role) | {"GITHUB_SHA": SHA}
        for role in ("reader", "registrar", "promoter")
    )
    print(f"team stack started in {team_stack.started_in:.1f} s (budget 20 s)")

    # A pull request's identity trains and gates in the pull-request experiment, and the server
    # refuses it the registry.
    experiment = f"{project.combo.slug}-pull-requests"
    pipeline = project.make("pipeline", env=reader | {"MLFLOW_EXPERIMENT_NAME": experiment})
    assert pipeline.returncode != 0
    assert "error code 403" in _one_line_error(pipeline)
    assert (
        registry_versions(
            shared_venv, team_stack.uri, project.combo.slug, project.path, team_stack.admin
        )
        == []
    )

    # The registrar trains on main and registers once, however many run at the same time, and
    # cannot promote.
    train = project.make("train", "gate", env=registrar)
    assert train.returncode == 0, train.stdout + train.stderr
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

    # The reader, whose secret every pull request holds, cannot rewrite any file production is
    # made of (the artifact proxy, in S3): it has READ only on the experiment behind it.
    admin = (
        team_stack.admin["MLFLOW_TRACKING_USERNAME"],
        team_stack.admin["MLFLOW_TRACKING_PASSWORD"],
    )
    before = _made_of(team_stack.uri, admin, project.combo.slug, 1)
    assert any(path.endswith("/MLmodel") for path in before), before
    as_reader = (reader["MLFLOW_TRACKING_USERNAME"], reader["MLFLOW_TRACKING_PASSWORD"])
    artifacts = f"{team_stack.uri}/api/2.0/mlflow-artifacts/artifacts"
    for path in before:
        forged = requests.put(f"{artifacts}/{path}", data=b"forged", auth=as_reader, timeout=30)
        assert forged.status_code == 403, (path, forged.status_code)
    assert _made_of(team_stack.uri, admin, project.combo.slug, 1) == before

    # Nor can the registrar change what promotion trusts (mlflow-server/alias_guard.py; every
    # rule through the REST API in the generated tests/test_roles.py).
    as_registrar = (registrar["MLFLOW_TRACKING_USERNAME"], registrar["MLFLOW_TRACKING_PASSWORD"])
    model = {"name": project.combo.slug, "version": "1"}
    api = f"{team_stack.uri}/api/2.0/mlflow"
    for method, route, body in (
        ("POST", "registered-models/alias", model | {"alias": "Production"}),
        ("DELETE", "registered-models/alias", {"name": model["name"], "alias": "production"}),
        ("POST", "model-versions/transition-stage", model | {"stage": "Production"}),
        ("POST", "registered-models/rename", {"name": model["name"], "new_name": "elsewhere"}),
        ("POST", "model-versions/set-tag", model | {"key": "git_sha", "value": "f" * 40}),
        ("DELETE", "model-versions/delete-tag", model | {"key": "gate"}),
        ("DELETE", "model-versions/delete", model),
    ):
        answer = requests.request(
            method, f"{api}/{route}", json=body, auth=as_registrar, timeout=30
        )
        assert answer.status_code == 403, (method, route, answer.status_code, answer.text)

    (version,) = registry_versions(
        shared_venv, team_stack.uri, project.combo.slug, project.path, team_stack.admin
    )
    assert version["aliases"] == ["production", "staging"]
    assert version["tags"]["git_sha"] == SHA
    assert (project.path / "preds.csv").read_text().splitlines()[1].startswith("setosa,")
    assert "version 1 (`production`)" in (project.path / "reports" / "report.md").read_text()
    assert not (project.path / "mlflow.db").exists(), "the server, not a local store, was used"

    # Files changed behind the registry's back (here by the admin, as anyone who can write the
    # bucket could): a cloudpickle flavour and a pickle that would run code. Every command that
    # loads production refuses it in one line, before anything in it is deserialised.
    marker = project.path / "pickle-ran"
    (model_file,) = [p for p in before if "/models/" in p and p.endswith("/artifacts/MLmodel")]
    folder = model_file.removesuffix("/MLmodel")
    mlmodel = yaml.safe_load(before[model_file])
    mlmodel["flavors"]["sklearn"].update(serialization_format="cloudpickle", pickled_model="m.pkl")
    for path, body in (
        (f"{folder}/m.pkl", pickle.dumps(WritesMarker(marker))),
        (model_file, yaml.safe_dump(mlmodel).encode()),
    ):
        written = requests.put(f"{artifacts}/{path}", data=body, auth=admin, timeout=30)
        assert written.ok, (path, written.status_code)
    for target, extra in (
        ("predict", ["INPUT=new.csv", "OUTPUT=tampered.csv"]),
        ("gate", []),
        ("monitor", ["INPUT=new.csv"]),
        ("serve", ["PORT=0"]),
    ):
        refused = project.make(target, *extra, env=reader)
        assert refused.returncode != 0, target
        line = _one_line_error(refused)
        assert f"{project.combo.slug} version 1" in line, (target, line)
        assert "model_sha256" in line, (target, line)
    assert not marker.exists()
    assert not (project.path / "tampered.csv").exists()
