"""The three CI identities on a real `mlflow server --app-name basic-auth` (mlflow-server/):
the server itself refuses what each identity may not do, through the client and through the REST
API directly."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import requests
import yaml
from conftest import edit_config
from mlflow.tracking import MlflowClient

from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.config import load_settings
from {{ cookiecutter.module_name }}.errors import EXIT_REGISTRY, EXIT_USAGE
from {{ cookiecutter.module_name }}.stages.roles import pull_request_experiment

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MODULE = "{{ cookiecutter.module_name }}"
ADMIN = ("admin", "admin-password-for-tests")
PASSWORDS = {role: f"{role}-password-for-tests" for role in ("reader", "registrar", "promoter")}
SERVER_START_SECONDS = 600


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """mlflow-server/start.sh on 127.0.0.1 with SQLite stores; yields its URI."""
    root = tmp_path_factory.mktemp("server")
    port = _free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "MLFLOW_AUTH_DATABASE_URI": f"sqlite:///{root / 'auth.db'}",
        "MLFLOW_AUTH_CONFIG_PATH": str(root / "auth.ini"),
        "MLFLOW_AUTH_ADMIN_USERNAME": ADMIN[0],
        "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN[1],
        "MLFLOW_FLASK_SERVER_SECRET_KEY": "tests-only-secret",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    log = (root / "server.log").open("w")
    process = subprocess.Popen(
        [
            "sh",
            str(PROJECT_ROOT / "mlflow-server" / "start.sh"),
            "--host=127.0.0.1",
            f"--port={port}",
            f"--backend-store-uri=sqlite:///{root / 'mlflow.db'}",
            f"--artifacts-destination={root / 'artifacts'}",
            "--serve-artifacts",
            "--workers=1",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    uri = f"http://127.0.0.1:{port}"
    # Readiness, not a fixed wait: a loaded CI runner may take minutes to import MLflow's server.
    deadline = time.monotonic() + SERVER_START_SECONDS
    while True:
        log_tail = (root / "server.log").read_text()[-3000:]
        assert process.poll() is None, f"the server exited:\n{log_tail}"
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=5):
                break
        except OSError:
            late = f"the server did not answer /health in {SERVER_START_SECONDS} s:\n{log_tail}"
            assert time.monotonic() < deadline, late
            time.sleep(0.5)
    yield uri
    process.terminate()
    process.wait(timeout=30)
    log.close()


def _as(monkeypatch: pytest.MonkeyPatch, user: str, password: str) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", user)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password)


def _as_role(monkeypatch: pytest.MonkeyPatch, role: str) -> None:
    _as(monkeypatch, f"{load_settings().registry.model_name}-{role}", PASSWORDS[role])


def _register_in_parallel(count: int) -> list[tuple[int, str, str]]:
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", MODULE, "register", "--pr-number", "9"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    return [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in processes]


def test_each_identity_may_do_its_part_and_the_server_refuses_the_rest(
    project: Path,
    server: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server)
    name = load_settings().registry.model_name
    _as(monkeypatch, *ADMIN)
    for role, password in PASSWORDS.items():
        monkeypatch.setenv(f"MLFLOW_{role.upper()}_PASSWORD", password)
    assert main(["roles"]) == 0
    assert main(["roles"]) == 0  # again: users and grants are updated, not duplicated

    # Pull requests: the reader trains in the pull-request experiment, gates against production
    # (none yet), cannot register.
    _as_role(monkeypatch, "reader")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", pull_request_experiment(load_settings()))
    for stage in ("data", "validate", "train", "gate"):
        assert main([stage]) == 0, stage
    capsys.readouterr()
    assert main(["register"]) == EXIT_REGISTRY
    (line,) = capsys.readouterr().err.splitlines()
    assert "error code 403" in line
    assert "registered-models" in line
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME")

    # Main: the registrar trains in the main experiment and registers once however many run at
    # the same time; no production.
    _as_role(monkeypatch, "registrar")
    for stage in ("train", "gate"):
        assert main([stage]) == 0, stage
    results = _register_in_parallel(3)
    assert [code for code, _, _ in results] == [0, 0, 0], results
    assert main(["promote", "--version", "1"]) == EXIT_REGISTRY
    assert "may not move alias 'production'" in capsys.readouterr().err

    # Tags: the promoter moves production, and can take it back.
    _as_role(monkeypatch, "promoter")
    assert main(["promote", "--version", "1"]) == 0
    assert main(["rollback", "--to", "none"]) == 0
    assert main(["promote", "--version", "1"]) == 0

    # The reader's next gate compares with production.
    _as_role(monkeypatch, "reader")
    assert main(["gate"]) == 0
    assert "version 1 (`production`)" in (project / "reports" / "report.md").read_text()

    _as(monkeypatch, *ADMIN)
    client = MlflowClient(tracking_uri=server)
    (version,) = client.search_model_versions(f"name='{name}'")
    assert version.tags["pr_number"] == "9"
    registered = client.get_run(version.run_id)
    experiment = client.get_experiment(registered.info.experiment_id).name
    assert experiment == load_settings().tracking.experiment
    pull_requests = client.get_experiment_by_name(pull_request_experiment(load_settings()))
    assert client.search_runs([pull_requests.experiment_id]), "the reader's run is not there"
    assert sorted(client.get_model_version(name, version.version).aliases) == [
        "production",
        "staging",
    ]


class Rest:
    """The server's REST API as one identity: the status code of each call."""

    def __init__(self, uri: str, auth: tuple[str, str]) -> None:
        self.uri, self.auth = uri, auth

    def __call__(self, method: str, path: str, body: dict | None = None, **kwargs) -> int:
        return self.answer(method, path, body, **kwargs).status_code

    def answer(self, method: str, path: str, body: dict | None = None, **kwargs):
        if body is not None:
            kwargs["json"] = body
        return requests.request(method, self.uri + path, auth=self.auth, timeout=30, **kwargs)

    def json(self, method: str, path: str, body: dict | None = None, **kwargs) -> dict:
        answer = self.answer(method, path, body, **kwargs)
        assert answer.ok, f"{method} {path}: {answer.status_code} {answer.text[:300]}"
        return answer.json()


SPELLINGS = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
ARTIFACTS = ("/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts")
PROTECTED_TAGS = {"git_sha": "a" * 40, "gate": "passed", "model_sha256": "0" * 64}


@pytest.fixture
def registered(project: Path, server: str, monkeypatch: pytest.MonkeyPatch, request) -> dict:
    """A model of this test's own on the shared server, registered over REST as the workflows do:
    `roles`, then the registrar logs a run and a model in the main experiment, registers it with
    the protected tags and sets `staging`; the promoter sets `production`."""
    name = request.node.name.replace("_", "-")[:40]
    edit_config(project, lambda raw: raw["registry"].update(model_name=name))
    edit_config(project, lambda raw: raw["tracking"].update(experiment=name))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server)
    _as(monkeypatch, *ADMIN)
    for role, password in PASSWORDS.items():
        monkeypatch.setenv(f"MLFLOW_{role.upper()}_PASSWORD", password)
    assert main(["roles"]) == 0
    who = {role: Rest(server, (f"{name}-{role}", PASSWORDS[role])) for role in PASSWORDS}
    who["admin"] = Rest(server, ADMIN)
    get = "/api/2.0/mlflow/experiments/get-by-name"
    ids = [
        who["admin"].json("GET", get, params={"experiment_name": experiment})["experiment"][
            "experiment_id"
        ]
        for experiment in (name, pull_request_experiment(load_settings()))
    ]
    registrar, api = who["registrar"], SPELLINGS[0]
    run = registrar.json("POST", f"{api}/runs/create", {"experiment_id": ids[0]})["run"]["info"]
    logged = registrar.json(
        "POST", f"{api}/logged-models", {"experiment_id": ids[0], "source_run_id": run["run_id"]}
    )["model"]["info"]
    artifacts = f"{ARTIFACTS[0]}/artifacts/{ids[0]}"
    model_file = f"{artifacts}/models/{logged['model_id']}/artifacts/MLmodel"
    run_file = f"{artifacts}/{run['run_id']}/artifacts/model/MLmodel"
    for path in (model_file, run_file):
        assert registrar("PUT", path, data=b"flavors: {}\n") == 200, path
    version = registrar.json(
        "POST",
        f"{api}/model-versions/create",
        {
            "name": name,
            "source": f"models:/{logged['model_id']}",
            "run_id": run["run_id"],
            "model_id": logged["model_id"],
            "tags": [{"key": k, "value": v} for k, v in PROTECTED_TAGS.items()],
        },
    )["model_version"]["version"]
    alias = f"{api}/registered-models/alias"
    assert registrar("POST", alias, {"name": name, "alias": "staging", "version": version}) == 200
    body = {"name": name, "alias": "production", "version": version}
    assert who["promoter"]("POST", alias, body) == 200
    return {
        "name": name,
        "version": version,
        "experiments": ids,
        "run_id": run["run_id"],
        "model_id": logged["model_id"],
        "files": (model_file, run_file),
        "who": who,
    }


def _unchanged(registered: dict) -> None:
    """What production is and what it is made of, as the admin reads it."""
    admin, name, version = registered["who"]["admin"], registered["name"], registered["version"]
    params = {"name": name, "version": version}
    held = admin.json("GET", "/api/2.0/mlflow/model-versions/get", params=params)
    assert sorted(held["model_version"]["aliases"]) == ["production", "staging"]
    tags = {tag["key"]: tag["value"] for tag in held["model_version"]["tags"]}
    assert {key: tags.get(key) for key in PROTECTED_TAGS} == PROTECTED_TAGS
    assert held["model_version"].get("current_stage", "None") == "None"
    for path in registered["files"]:
        answer = admin.answer("GET", path)
        assert (answer.status_code, answer.content) == (200, b"flavors: {}\n"), path


def test_the_registrar_is_refused_each_change_to_what_production_trusts(
    registered: dict,
) -> None:
    name, version, who = registered["name"], registered["version"], registered["who"]
    registrar, promoter = who["registrar"], who["promoter"]
    for api in SPELLINGS:
        alias, tag = f"{api}/registered-models/alias", f"{api}/model-versions/set-tag"
        refused = [
            ("POST", alias, {"name": name, "alias": "Production", "version": version}),
            ("POST", alias, {"name": name, "alias": "PRODUCTION", "version": version}),
            ("DELETE", alias, {"name": name, "alias": "production"}),
            ("DELETE", alias, {"name": name, "alias": "Production"}),
            (
                "POST",
                f"{api}/model-versions/transition-stage",
                {"name": name, "version": version, "stage": "Production"},
            ),
            (
                "POST",
                f"{api}/model-versions/transition-stage",
                {"name": name, "version": version, "stage": "Staging"},
            ),
            ("POST", f"{api}/registered-models/rename", {"name": name, "new_name": "other"}),
            ("DELETE", f"{api}/registered-models/delete", {"name": name}),
            ("DELETE", f"{api}/model-versions/delete", {"name": name, "version": version}),
            *(
                ("POST", tag, {"name": name, "version": version, "key": key, "value": "forged"})
                for key in PROTECTED_TAGS
            ),
            *(
                ("POST", tag, {"name": name, "version": version, "key": key, "value": value})
                for key, value in PROTECTED_TAGS.items()
            ),
            *(
                (
                    "DELETE",
                    f"{api}/model-versions/delete-tag",
                    {"name": name, "version": version, "key": key},
                )
                for key in PROTECTED_TAGS
            ),
        ]
        for method, path, body in refused:
            assert registrar(method, path, body) == 403, (method, path, body)
        # The body is what MLflow's handler reads, whatever the Content-Type says...
        as_text = {"headers": {"Content-Type": "text/plain"}}
        body = json.dumps({"name": name, "alias": "production"})
        assert registrar("DELETE", alias, data=body, **as_text) == 403
        # ... and a query string that could name another model than the body is refused.
        assert registrar("DELETE", alias, {"name": name, "alias": "x"}, params={"name": "m"}) == 403

    # What the registrar is there for still works: staging, other tags, a version with the tags.
    api = SPELLINGS[0]
    body = {"name": name, "alias": "staging", "version": version}
    assert registrar("POST", f"{api}/registered-models/alias", body) == 200
    body = {"name": name, "version": version, "key": "note", "value": "retrained"}
    assert registrar("POST", f"{api}/model-versions/set-tag", body) == 200
    second = registrar.json(
        "POST",
        f"{api}/model-versions/create",
        {
            "name": name,
            "source": f"models:/{registered['model_id']}",
            "run_id": registered["run_id"],
            "model_id": registered["model_id"],
            "tags": [{"key": k, "value": v} for k, v in PROTECTED_TAGS.items()],
        },
    )["model_version"]
    assert {t["key"] for t in second["tags"]} >= set(PROTECTED_TAGS)
    _unchanged(registered)

    # The promoter (MANAGE) may do what the registrar may not.
    body = {"name": name, "version": version, "key": "gate", "value": "passed"}
    assert promoter("POST", f"{api}/model-versions/set-tag", body) == 200
    body = {"name": name, "version": second["version"]}
    assert promoter("DELETE", f"{api}/model-versions/delete", body) == 200
    body = {"name": name, "alias": "production", "version": version}
    assert promoter("POST", f"{SPELLINGS[1]}/registered-models/alias", body) == 200
    _unchanged(registered)


def test_the_reader_cannot_write_what_a_registered_version_is_made_of(registered: dict) -> None:
    reader, run_id = registered["who"]["reader"], registered["run_id"]
    model_id = registered["model_id"]
    main_experiment, pull_requests = registered["experiments"]
    api = SPELLINGS[0]
    for prefix in ARTIFACTS:
        for path in registered["files"]:
            spelled = path.replace(ARTIFACTS[0], prefix)
            assert reader("PUT", spelled, data=b"flavors: {cloudpickle: {}}\n") == 403, spelled
            assert reader("DELETE", spelled) == 403, spelled
            assert reader("GET", spelled) == 200, spelled
        mpu = f"{prefix}/mpu/create/{main_experiment}/{run_id}/artifacts/model/model.skops"
        assert reader("POST", mpu, {"path": "model.skops", "num_parts": 1}) == 403
    upload = "/ajax-api/2.0/mlflow/upload-artifact"
    params = {"run_uuid": run_id, "path": "model/MLmodel"}
    assert reader("POST", upload, params=params, data=b"flavors: {}") == 403
    logged = f"{api}/logged-models/{model_id}"
    refused = [
        ("PATCH", f"{logged}/tags", {"tags": [{"key": "k", "value": "v"}]}),
        ("DELETE", f"{logged}/tags/mlflow.source.name", None),
        ("PATCH", logged, {"model_id": model_id, "status": "LOGGED_MODEL_READY"}),
        ("DELETE", logged, None),
        ("POST", f"{logged}/params", {"params": [{"key": "k", "value": "v"}]}),
        ("POST", f"{api}/logged-models", {"experiment_id": main_experiment}),
        ("POST", f"{api}/runs/create", {"experiment_id": main_experiment}),
        ("POST", f"{api}/runs/set-tag", {"run_id": run_id, "key": "k", "value": "v"}),
        ("POST", f"{api}/runs/log-batch", {"run_id": run_id, "tags": [{"key": "k", "value": "v"}]}),
        ("POST", f"{api}/runs/update", {"run_id": run_id, "status": "FAILED"}),
        ("POST", f"{api}/runs/delete", {"run_id": run_id}),
        ("POST", f"{api}/experiments/update", {"experiment_id": main_experiment, "new_name": "x"}),
        ("POST", f"{api}/experiments/delete", {"experiment_id": main_experiment}),
    ]
    for method, path, body in refused:
        assert reader(method, path, body) == 403, (method, path, body)
    _unchanged(registered)

    # The pull-request experiment is the reader's to write.
    run = reader.json("POST", f"{api}/runs/create", {"experiment_id": pull_requests})["run"]
    own = f"{ARTIFACTS[0]}/artifacts/{pull_requests}/{run['info']['run_id']}/artifacts/report.md"
    assert reader("PUT", own, data=b"# report\n") == 200
    body = {"run_id": run["info"]["run_id"], "key": "k", "value": "v"}
    assert reader("POST", f"{api}/runs/set-tag", body) == 200
    # ... but not to link its metrics to the registered version's model (main experiment).
    metric = {"key": "drift", "value": 1.0, "timestamp": 0, "step": 0, "model_id": model_id}
    body = {"run_id": run["info"]["run_id"], "metrics": [metric]}
    assert reader("POST", f"{api}/runs/log-batch", body) == 403
    del metric["model_id"]
    assert reader("POST", f"{api}/runs/log-batch", body | {"metrics": [metric]}) == 200

    # Nor can it have the server write into the registered version's folder with the server's own
    # access: an experiment of its own located there, or the server-side upload, is refused.
    inside = f"file:///artifacts/{main_experiment}/models/{model_id}/artifacts"
    for prefix in SPELLINGS:
        created = {"name": f"{registered['name']}-x{len(prefix)}", "artifact_location": inside}
        assert reader("POST", f"{prefix}/experiments/create", created) == 403, prefix
    assert reader("POST", f"{api}/experiments/create", {"name": f"{registered['name']}-own"}) == 200
    params = {"run_uuid": run["info"]["run_id"], "path": "planted.txt"}
    assert reader("POST", upload, params=params, data=b"x") == 403
    _unchanged(registered)


def test_roles_converge(registered: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """`roles` again, after a grant drifted and with a new password: the same grants as the first
    run, the new password in force."""
    name, who = registered["name"], registered["who"]
    admin, grants = who["admin"], "/api/3.0/mlflow/users/permissions"

    def current() -> dict[str, set]:
        held = {}
        for role in PASSWORDS:
            params = {"username": f"{name}-{role}"}
            listed = admin.json("GET", f"{grants}/list", params=params)["permissions"]
            held[role] = {
                (p["resource_type"], p["resource_pattern"], p["permission"]) for p in listed
            }
        return held

    first = current()
    main_experiment, pull_requests = registered["experiments"]
    assert first["reader"] == {
        ("experiment", main_experiment, "READ"),
        ("experiment", pull_requests, "EDIT"),
        ("registered_model", name, "READ"),
    }
    assert ("registered_model", name, "MANAGE") in first["promoter"]
    drift = {"username": f"{name}-reader", "resource_type": "experiment"}
    drift |= {"resource_id": main_experiment}
    admin.json("POST", f"{grants}/revoke", drift)
    admin.json("POST", f"{grants}/grant", drift | {"permission": "MANAGE"})
    monkeypatch.setenv("MLFLOW_READER_PASSWORD", "a-new-reader-password")

    assert main(["roles"]) == 0
    assert current() == first
    assert who["reader"]("GET", "/api/2.0/mlflow/users/current") == 401
    new = Rest(registered["who"]["admin"].uri, (f"{name}-reader", "a-new-reader-password"))
    assert new("GET", "/api/2.0/mlflow/users/current") == 200


def test_roles_say_what_they_need(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["roles", "--print"]) == 0
    plan = capsys.readouterr().out
    assert "-registrar: EDIT on experiment" in plan
    assert "MANAGE on model" in plan

    assert main(["roles"]) == EXIT_USAGE  # the SQLite store has no users
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    assert main(["roles"]) == EXIT_USAGE
    _as(monkeypatch, *ADMIN)
    assert main(["roles"]) == EXIT_USAGE
    assert "MLFLOW_READER_PASSWORD" in capsys.readouterr().err.splitlines()[-1]


def test_the_server_image_runs_the_projects_mlflow() -> None:
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text()
    image = (PROJECT_ROOT / "mlflow-server" / "Dockerfile").read_text()
    pin = next(line for line in pyproject.splitlines() if '"mlflow==' in line)
    version = pin.split("==")[1].strip('",')
    assert f"mlflow:v{version}" in image


def test_dependabot_moves_the_mlflow_pin_and_the_server_image_together() -> None:
    updates = yaml.safe_load((PROJECT_ROOT / ".github" / "dependabot.yml").read_text())["updates"]
    # uv moves the pin in pyproject.toml and uv.lock together.
    python = next(u for u in updates if u["package-ecosystem"] == "uv")
    docker = next(u for u in updates if u["package-ecosystem"] == "docker")
    assert "/mlflow-server" in docker["directories"]
    assert python["multi-ecosystem-group"] == docker["multi-ecosystem-group"]
