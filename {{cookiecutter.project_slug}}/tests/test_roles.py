"""The three CI identities on a real `mlflow server --app-name basic-auth` (mlflow-server/):
the server itself refuses what each identity may not do."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.config import load_settings
from {{ cookiecutter.module_name }}.errors import EXIT_REGISTRY, EXIT_USAGE

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MODULE = "{{ cookiecutter.module_name }}"
ADMIN = ("admin", "admin-password-for-tests")
PASSWORDS = {role: f"{role}-password-for-tests" for role in ("reader", "registrar", "promoter")}


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
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, (root / "server.log").read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2):
                break
        except OSError:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)
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

    # Pull requests: the reader trains, gates against production (none yet), cannot register.
    _as_role(monkeypatch, "reader")
    for stage in ("data", "validate", "train", "gate"):
        assert main([stage]) == 0, stage
    capsys.readouterr()
    assert main(["register"]) == EXIT_REGISTRY
    (line,) = capsys.readouterr().err.splitlines()
    assert "error code 403" in line
    assert "registered-models" in line

    # Main: the registrar registers once however many run at the same time; no production.
    _as_role(monkeypatch, "registrar")
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
    assert sorted(client.get_model_version(name, version.version).aliases) == [
        "production",
        "staging",
    ]


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
