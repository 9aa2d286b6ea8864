"""The Prefect flow runs the same stage functions as `make pipeline`, for real: a temporary
Prefect server, the project's MLflow store, registry steps retried on registry errors only."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Prefect reads its settings when imported: a private home, no analytics, warnings only (its
# exit-time INFO lines would go to pytest's closed capture); registry retries without a wait.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="prefect-home-"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# Its temporary server gets 20 s to start by default: not enough on a loaded 2-core runner.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ["FLOW_REGISTRY_RETRY_DELAY"] = "0"

import pytest  # noqa: E402
from conftest import edit_config  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

from {{ cookiecutter.module_name }} import flow  # noqa: E402
from {{ cookiecutter.module_name }}.cli import main as cli  # noqa: E402
from {{ cookiecutter.module_name }}.errors import EXIT_GATE, RegistryError  # noqa: E402
from {{ cookiecutter.module_name }}.stages import gate, register  # noqa: E402

pytestmark = pytest.mark.slow


def _client() -> MlflowClient:
    return MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])


def _versions() -> list:
    return _client().search_model_versions("")


def test_the_flow_registers_through_the_same_stages_and_retries_the_registry(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["data"]) == 0
    real_register, calls = register.register, []

    def flaky_register(settings, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RegistryError("registering: 503 Service Unavailable")
        return real_register(settings, *args, **kwargs)

    monkeypatch.setattr(register, "register", flaky_register)

    assert flow.main([]) == 0, capsys.readouterr().err

    assert len(calls) == 2  # one registry error, retried
    (version,) = _versions()
    assert version.tags["gate"] == "passed"
    staging = _client().get_model_version_by_alias(version.name, "staging")
    assert staging.version == version.version
    for name in ("validation.json", "metrics.json", "gate.json", "report.md"):
        assert (project / "reports" / name).exists(), name

    # A failed gate is a verdict, not a hiccup: no retry, the CLI's exit code, nothing registered.
    def impossible(raw: dict) -> None:
        for criterion in raw["gate"]["criteria"]:
            criterion["threshold"] = 1e9 if criterion["direction"] == "higher" else -1e9

    edit_config(project, impossible)
    gate_calls = []
    real_gate = gate.run_gate
    monkeypatch.setattr(gate, "run_gate", lambda *a: gate_calls.append(1) or real_gate(*a))
    capsys.readouterr()

    assert flow.main([]) == EXIT_GATE

    assert gate_calls == [1]
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("error: gate failed")
    assert len(_versions()) == 1
