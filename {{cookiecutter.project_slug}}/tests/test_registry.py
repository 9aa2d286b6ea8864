"""What was gated is what gets registered; registry errors fail closed; promotions roll back."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import edit_config
from mlflow.tracking import MlflowClient

from {{ cookiecutter.module_name }} import cancel
from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.config import load_settings
from {{ cookiecutter.module_name }}.errors import EXIT_GATE, EXIT_REGISTRY, EXIT_USAGE

MODULE = "{{ cookiecutter.module_name }}"


def _client() -> MlflowClient:
    return MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])


def _versions() -> list:
    name = load_settings().registry.model_name
    return _client().search_model_versions(f"name='{name}'")


def _cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", MODULE, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def gated(project: Path) -> Path:
    """A trained candidate that passed the gate, not registered yet."""
    for stage in ("data", "validate", "train", "gate"):
        assert main([stage]) == 0, stage
    return project


def _raise_a_threshold(raw: dict) -> None:
    criterion = raw["gate"]["criteria"][0]
    criterion["threshold"] = 0.5 if criterion["direction"] == "higher" else 1e8


def _append_a_row(project: Path) -> None:
    path = project / load_settings().data.path
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[-1]]) + "\n")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (_append_a_row, "the data changed since the gate"),
        (lambda project: edit_config(project, _raise_a_threshold), "the config changed"),
        (lambda project: os.environ.update(GITHUB_SHA="b" * 40), "the commit changed"),
    ],
    ids=["data", "threshold", "commit"],
)
def test_register_refuses_what_the_gate_did_not_see(
    gated: Path, change, named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    change(gated)

    assert main(["register"]) == EXIT_GATE

    assert named in capsys.readouterr().err
    assert _versions() == []


def _unreachable_threshold(raw: dict) -> None:
    criterion = raw["gate"]["criteria"][0]
    criterion["threshold"] = 1.01 if criterion["direction"] == "higher" else 0.0


def test_register_decides_again_instead_of_trusting_hand_edited_reports(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: a candidate the gate refused, whose reports were then edited to say it passed
    edit_config(project, _unreachable_threshold)
    for stage in ("data", "validate", "train"):
        assert main([stage]) == 0, stage
    assert main(["gate"]) == EXIT_GATE
    reports = project / "reports"
    decision = json.loads((reports / "gate.json").read_text())
    (reports / "gate.json").write_text(json.dumps(decision | {"passed": True}))
    record = json.loads((reports / "metrics.json").read_text())
    inflated = dict.fromkeys(record["metrics"], 1.0)
    (reports / "metrics.json").write_text(json.dumps(record | {"metrics": inflated}))
    capsys.readouterr()

    # When / then: register takes the decision again from the run's logged metrics
    assert main(["register"]) == EXIT_GATE
    assert "fails the gate on its logged metrics" in capsys.readouterr().err
    assert _versions() == []


def test_a_failed_retrain_leaves_nothing_to_register(
    gated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_config(gated, lambda raw: raw["model"]["params"].update(no_such_param=1))

    assert main(["train"]) == EXIT_USAGE
    assert main(["register"]) == EXIT_USAGE

    assert "metrics.json not found" in capsys.readouterr().err
    assert _versions() == []
    assert not (gated / "reports" / "gate.json").exists()


def test_each_stage_removes_its_own_and_later_outputs_before_it_starts(gated: Path) -> None:
    reports = gated / "reports"
    (reports / "validation.json").write_text("{}")
    (reports / "figures" / ".gitkeep").touch()  # committed in a project: git must not see a change

    assert main(["validate"]) == 0

    assert json.loads((reports / "validation.json").read_text())["passed"] is True
    for stale in ("metrics.json", "gate.json", "report.md"):
        assert not (reports / stale).exists(), stale
    assert [path.name for path in (reports / "figures").iterdir()] == [".gitkeep"]


def test_concurrent_registrations_of_one_run_create_one_version(gated: Path) -> None:
    processes = [_cli("register", "--pr-number", "5") for _ in range(3)]
    results = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in processes]

    assert [code for code, _, _ in results] == [0, 0, 0], results
    assert sum("already registered" in out for _, out, _ in results) == 2
    (version,) = _versions()
    assert version.tags["pr_number"] == "5"


def test_find_prints_the_version_behind_an_alias_or_none(
    gated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["register"]) == 0
    capsys.readouterr()

    assert main(["find", "--production"]) == 0
    assert capsys.readouterr().out.strip() == "none"
    assert main(["promote", "--version", "1"]) == 0
    capsys.readouterr()
    assert main(["find", "--production"]) == 0
    assert capsys.readouterr().out.strip() == "1"
    assert main(["find", "--alias", "staging"]) == 0
    assert capsys.readouterr().out.strip() == "1"


def test_promote_records_the_previous_version_and_rollback_restores_it(
    gated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = load_settings().registry.model_name
    assert main(["register", "--pr-number", "3", "--pr-head-sha", "c" * 40]) == 0
    assert main(["promote", "--version", "1"]) == 0
    assert json.loads((gated / "reports" / "promotion.json").read_text()) == {
        "version": "1",
        "previous": None,
    }
    assert main(["rollback", "--to", "none"]) == 0
    assert "production" not in _client().get_registered_model(name).aliases

    assert main(["promote", "--version", "1"]) == 0
    _client().set_model_version_tag(name, "1", "gate", "skipped")
    assert main(["promote", "--version", "1"]) == EXIT_GATE
    assert "did not pass the gate" in capsys.readouterr().err
    assert main(["rollback", "--to", "1"]) == 0
    assert str(_client().get_model_version_by_alias(name, "production").version) == "1"


def test_release_assets_come_from_the_version_asked_for(gated: Path) -> None:
    assert main(["register", "--pr-number", "3", "--pr-head-sha", "c" * 40]) == 0

    assert main(["card", "--version", "1", "--output", "dist/card.md"]) == 0
    assert main(["export", "--version", "1", "--output", "dist/model"]) == 0

    card = (gated / "dist" / "card.md").read_text()
    assert "version **1** (aliases: `staging`)" in card
    assert f"- Pull request: #3 (head `{'c' * 40}`)" in card
    assert "- Config sha256: `" in card
    assert list((gated / "dist" / "model").rglob("MLmodel"))
    assert main(["card", "--version", "2", "--output", "dist/card.md"]) == EXIT_REGISTRY


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Refusing(BaseHTTPRequestHandler):
    """A server that answers every request with 403, as a tracking server does to a stranger."""

    def _refuse(self) -> None:
        body = json.dumps({"error_code": "PERMISSION_DENIED", "message": "Permission denied"})
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = do_POST = do_PATCH = do_DELETE = _refuse

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def refusing_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("stage", "server"),
    [("gate", "down"), ("gate", "refusing"), ("register", "refusing"), ("predict", "down")],
)
def test_registry_errors_fail_closed_in_one_line_and_in_seconds(
    gated: Path,
    stage: str,
    server: str,
    refusing_server: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    uri = refusing_server if server == "refusing" else f"http://127.0.0.1:{_free_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    args = {"predict": ["predict", "--input", "in.csv", "--output", "out.csv"]}.get(stage, [stage])
    started = time.monotonic()

    code = main(args)

    assert code == EXIT_REGISTRY
    assert time.monotonic() - started < 30
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: ")
    assert ("PERMISSION_DENIED" if server == "refusing" else "Connection refused") in line, line
    assert not (gated / "out.csv").exists()


def _run_statuses(project: Path) -> list[str]:
    """Run statuses read straight from the SQLite store: cheap enough to poll every 20 ms."""
    try:
        with sqlite3.connect(project / "mlflow.db", timeout=1) as db:
            return [row[0] for row in db.execute("SELECT status FROM runs")]
    except sqlite3.Error:  # the store is still being created
        return []


# Training whose model logging, once the model is written, says so in a file (argv[1]) and waits
# (up to a minute) for the cancellation: the signal lands in the last step of the run, whatever
# the machine's load.
_TRAIN_CANCELLED_WHILE_LOGGING_THE_MODEL = f"""
import sys, time
from pathlib import Path
import mlflow.sklearn
from {MODULE} import cancel
from {MODULE}.cli import main

log_model = mlflow.sklearn.log_model

def waiting_for_the_signal(*args, **kwargs):
    logged = log_model(*args, **kwargs)
    Path(sys.argv[1]).touch()
    deadline = time.monotonic() + 60
    while cancel._Held.pending is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return logged

mlflow.sklearn.log_model = waiting_for_the_signal
sys.exit(main(["train"]))
"""


def _training_until_its_model_is_logged(script: str, scratch: Path) -> subprocess.Popen:
    """Start ``script`` (a training whose model logging then waits) and return once the model
    is logged, with the run still open."""
    logged = scratch / "model-logged"
    train = subprocess.Popen(
        [sys.executable, "-c", script, str(logged)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while not logged.exists():
        assert train.poll() is None, "training ended before its model was logged"
        assert time.monotonic() < deadline, "the model was never logged"
        time.sleep(0.02)
    return train


def test_a_training_run_cancelled_while_the_model_is_logged_ends_failed(
    project: Path, tmp_path: Path
) -> None:
    assert main(["data"]) == 0
    train = _training_until_its_model_is_logged(_TRAIN_CANCELLED_WHILE_LOGGING_THE_MODEL, tmp_path)
    assert _run_statuses(project) == ["RUNNING"]

    train.send_signal(signal.SIGTERM)
    _, stderr = train.communicate(timeout=120)

    assert _run_statuses(project) == ["FAILED"]
    assert train.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr


# The same training, killed outright once its model is logged: nothing in the process runs again.
_TRAIN_KILLED_WHILE_LOGGING = _TRAIN_CANCELLED_WHILE_LOGGING_THE_MODEL.replace(
    "cancel._Held.pending is None and time.monotonic() < deadline", "True"
)


def test_a_run_killed_outright_is_ended_failed_by_the_next_command(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data"]) == 0
    train = _training_until_its_model_is_logged(_TRAIN_KILLED_WHILE_LOGGING, tmp_path)
    train.kill()  # SIGKILL: no handler, no cleanup, as the out-of-memory killer does it
    train.communicate(timeout=60)
    assert _run_statuses(project) == ["RUNNING"]

    assert main(["train"]) == 0

    assert sorted(_run_statuses(project)) == ["FAILED", "FINISHED"]
    assert "left RUNNING by a killed command: ended FAILED" in capsys.readouterr().err
    assert not (project / "reports" / ".open_run.json").exists()


def test_a_note_naming_a_run_this_store_does_not_have_is_dropped_quietly(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data"]) == 0
    note = project / "reports" / ".open_run.json"
    note.parent.mkdir(exist_ok=True)
    note.write_text(json.dumps({"run_id": "0" * 32, "pid": 2**22 + 1, "host": "elsewhere"}))

    assert main(["train"]) == 0

    assert "Abandoned run" not in capsys.readouterr().err
    assert not note.exists()
    assert _run_statuses(project) == ["FINISHED"]


def _cancelled_inside_a_run(signum: int, reached: list[str]) -> None:
    with cancel.held() as checkpoint:
        os.kill(os.getpid(), signum)  # handled at once, in this thread: held
        reached.append("after the signal")
        checkpoint()
        reached.append("after the checkpoint")


@pytest.mark.parametrize(
    ("signum", "raised"),
    [
        (signal.SIGTERM, SystemExit),
        (signal.SIGINT, KeyboardInterrupt),
        (signal.SIGHUP, SystemExit),
    ],
)
def test_cancellation_inside_a_run_waits_for_a_checkpoint(signum: int, raised: type) -> None:
    previous = signal.getsignal(signum)
    cancel.unwind_on_cancel()
    reached: list[str] = []
    try:
        with pytest.raises(raised):
            _cancelled_inside_a_run(signum, reached)
        assert reached == ["after the signal"]
        with pytest.raises(raised):  # outside a run: raised where it lands
            os.kill(os.getpid(), signum)
    finally:
        signal.signal(signum, previous)


def test_a_registration_claim_is_taken_once_and_read_back_by_the_others(gated: Path) -> None:
    from {{ cookiecutter.module_name }}.registry import CLAIM_PARAM, _claim

    run_id = json.loads((gated / "reports" / "metrics.json").read_text())["run_id"]
    client = _client()
    assert _claim(client, run_id) is True
    claimed = client.get_run(run_id).data.params[CLAIM_PARAM]
    assert _claim(client, run_id) is False  # the param is write-once: someone else's claim
    assert client.get_run(run_id).data.params[CLAIM_PARAM] == claimed


def test_an_upsert_that_lost_a_race_is_retried_until_its_value_reads_back() -> None:
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import BAD_REQUEST, PERMISSION_DENIED

    from {{ cookiecutter.module_name }}.registry import _upsert

    writes = []

    def lost_a_race() -> None:
        writes.append("write")
        raise MlflowException("UNIQUE constraint failed", error_code=BAD_REQUEST)

    _upsert(lost_a_race, lambda: True)  # the concurrent writer's value is the one wanted
    assert len(writes) == 1
    with pytest.raises(MlflowException):
        _upsert(lost_a_race, lambda: False, attempts=2)
    assert len(writes) == 3

    def refused() -> None:
        writes.append("refused")
        raise MlflowException("not allowed", error_code=PERMISSION_DENIED)

    with pytest.raises(MlflowException):  # not a race: no retry, no read-back
        _upsert(refused, lambda: True)
    assert writes[3:] == ["refused"]
