"""The CLI end to end on the sample data, against a real MLflow store per test."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import tables
from conftest import TASK, edit_config
from mlflow.tracking import MlflowClient

from {{ cookiecutter.module_name }} import timings
from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.config import load_settings
from {{ cookiecutter.module_name }}.errors import EXIT_DATA, EXIT_GATE, EXIT_REGISTRY
from {{ cookiecutter.module_name }}.timings import importing

SHA = "a" * 40


def _client() -> MlflowClient:
    return MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])


def _versions(name: str) -> list:
    return _client().search_model_versions(f"name='{name}'")


def _set_thresholds(passable: bool):
    """Thresholds any model meets (passable) or none can (impossible)."""

    def mutate(raw: dict) -> None:
        for criterion in raw["gate"]["criteria"]:
            higher = criterion["direction"] == "higher"
            criterion["threshold"] = (
                (-1e9 if higher else 1e9) if passable else (1e9 if higher else -1e9)
            )

    return mutate


@pytest.fixture
def sample(project: Path) -> Path:
    assert main(["data"]) == 0
    return project


def test_pipeline_registers_version_1_with_staging_and_tags(sample: Path) -> None:
    settings = load_settings()
    name = settings.registry.model_name

    assert main(["pipeline"]) == 0

    version = _client().get_model_version_by_alias(name, "staging")
    assert int(version.version) == 1
    assert version.tags["git_sha"] == SHA
    assert version.tags["gate"] == "passed"
    assert len(version.tags["data_sha256"]) == 64
    for criterion in settings.gate.criteria:
        assert f"metric.{criterion.metric}" in version.tags
    run = _client().get_run(version.run_id)
    assert run.data.tags["git_sha"] == SHA
    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.digest == version.tags["data_sha256"][:32]
    profile = json.loads(dataset_input.dataset.profile)
    assert profile["num_rows"] == len(pd.read_csv(settings.data.path))  # every row, not a sample
    assert [(tag.key, tag.value) for tag in dataset_input.tags] == [
        ("mlflow.data.context", "training")
    ]
    for report in ["validation.json", "metrics.json", "gate.json", "report.md"]:
        assert (sample / "reports" / report).exists(), report
    assert list((sample / "reports" / "figures").glob("*.png"))
    assert (
        "| metric | candidate | baseline (skill) | production | threshold | result |"
        in (sample / "reports" / "report.md").read_text()
    )


def test_registering_the_same_run_twice_keeps_one_version(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pipeline"]) == 0
    assert main(["register", "--pr-number", "7"]) == 0

    assert "already registered" in capsys.readouterr().out
    assert len(_versions(load_settings().registry.model_name)) == 1


def test_stages_one_by_one(sample: Path) -> None:
    for stage in ["validate", "train", "gate", "register"]:
        assert main([stage]) == 0, stage
    assert json.loads((sample / "reports" / "gate.json").read_text())["passed"] is True


def test_failed_gate_exits_with_gate_code_and_registers_nothing(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_config(sample, _set_thresholds(passable=False))

    assert main(["pipeline"]) == EXIT_GATE

    assert capsys.readouterr().err.splitlines()[-1].startswith("error: gate failed")
    assert _versions(load_settings().registry.model_name) == []
    assert json.loads((sample / "reports" / "gate.json").read_text())["passed"] is False
    assert main(["register"]) == EXIT_GATE


def test_regression_against_production_fails_the_gate(sample: Path) -> None:
    name = load_settings().registry.model_name
    assert main(["pipeline"]) == 0
    assert main(["promote", "--version", "1"]) == 0

    def worse_model(raw: dict) -> None:
        _set_thresholds(passable=True)(raw)
        task = raw["task"]
        raw["model"] = {
            "estimator": "sklearn.dummy.Dummy"
            + ("Classifier" if task == "classification" else "Regressor"),
            "params": {},
        }
        raw["gate"]["max_regression"] = 0.0

    edit_config(sample, worse_model)
    assert main(["pipeline"]) == EXIT_GATE

    decision = json.loads((sample / "reports" / "gate.json").read_text())
    assert decision["production"].startswith("version 1")
    assert any(check["no_regression"] is False for check in decision["checks"])
    # Every criterion is compared with production, relative metrics (rmse_vs_baseline) included.
    assert all(check["production"] is not None for check in decision["checks"])
    assert len(_versions(name)) == 1


def test_promote_by_git_sha_then_predict(sample: Path) -> None:
    settings = load_settings()
    assert main(["pipeline"]) == 0
    assert main(["promote", "--git-sha", SHA]) == 0
    assert (
        _client().get_model_version_by_alias(settings.registry.model_name, "production").version
        == 1
    )

    frame = pd.read_csv(settings.data.path).drop(columns=[settings.data.target])
    frame.to_csv(sample / "new.csv", index=False)
    assert main(["predict", "--input", "new.csv", "--output", "out/preds.csv"]) == 0

    predictions = pd.read_csv(sample / "out" / "preds.csv")
    assert len(predictions) == len(frame)
    assert "prediction" in predictions.columns
    if settings.task == "classification":
        assert [c for c in predictions.columns if c.startswith("proba_")]

    frame.drop(columns=frame.columns[0]).to_csv(sample / "short.csv", index=False)
    assert main(["predict", "--input", "short.csv", "--output", "x.csv"]) == EXIT_DATA
    assert main(["promote", "--git-sha", "b" * 40]) == EXIT_REGISTRY
    assert main(["promote", "--version", "9"]) == EXIT_REGISTRY


def test_example_input_shows_the_columns_a_request_needs(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings()
    assert main(["example-input", "--output", "reports/example.csv"]) == EXIT_REGISTRY
    assert "has alias `production`" in capsys.readouterr().err
    assert main(["pipeline"]) == 0
    assert main(["promote", "--version", "1"]) == 0

    assert main(["example-input", "--output", "reports/example.csv"]) == 0

    example = pd.read_csv(sample / "reports" / "example.csv")
    features = list(pd.read_csv(settings.data.path, nrows=1).drop(columns=[settings.data.target]))
    assert list(example.columns) == features
    assert len(example) == 5
    body = json.loads((sample / "reports" / "example.json").read_text())
    assert body["rows"] == json.loads(example.to_json(orient="records"))
    assert f"5 rows of the {len(features)} columns a request needs" in capsys.readouterr().out
    # What it shows is what predict takes.
    assert main(["predict", "--input", "reports/example.csv", "--output", "preds.csv"]) == 0


MODEL = {
    "classification": "sklearn.linear_model.LogisticRegression",
    "regression": "sklearn.linear_model.Ridge",
}


def test_example_input_of_a_mixed_table_is_what_predict_takes(project: Path) -> None:
    # The team's own shapes: id, ISO date, text categories, yes/no, missing values.
    frame = tables.use_mixed_table(project, TASK, MODEL[TASK], rows=300)
    assert main(["pipeline"]) == 0
    assert main(["promote", "--version", "1"]) == 0

    assert main(["example-input", "--output", "reports/example.csv"]) == 0

    example = pd.read_csv(project / "reports" / "example.csv")
    # The model's inputs: every column but the target, the id, the group and the ignored one.
    not_inputs = {tables.TARGET, "customer_id", "branch", "exported_at"}
    assert set(example.columns) == set(frame.columns) - not_inputs
    assert main(["predict", "--input", "reports/example.csv", "--output", "preds.csv"]) == 0
    assert len(pd.read_csv(project / "preds.csv")) == len(example)


def test_predict_without_production_is_a_registry_error(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["predict", "--input", "in.csv", "--output", "out.csv"]) == EXIT_REGISTRY
    assert "has alias `production`" in capsys.readouterr().err


def test_changed_data_after_training_is_refused_by_the_gate(sample: Path) -> None:
    assert main(["train"]) == 0
    path = load_settings().data.path
    path.write_text(path.read_text() + path.read_text().splitlines()[-1] + "\n")
    assert main(["gate"]) == EXIT_DATA


@pytest.mark.parametrize(
    "argv",
    [
        ["gate"],
        ["register"],
        ["--config", "missing.yaml", "validate"],
    ],
    ids=["gate-before-train", "register-before-gate", "missing-config"],
)
def test_out_of_order_or_misconfigured_is_a_usage_error(project: Path, argv) -> None:
    assert main(argv) == 2


@pytest.mark.parametrize(
    "content",
    ["", "a,b\n1,2\n", 'x,"unclosed\n1,2\n'],
    ids=["empty", "wrong-columns", "unparsable"],
)
def test_bad_data_is_a_data_error(
    project: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    path = load_settings().data.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)

    assert main(["pipeline"]) == EXIT_DATA
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_missing_data_file_is_a_data_error(project: Path) -> None:
    assert main(["validate"]) == EXIT_DATA


def test_help_and_bad_usage(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    assert "exit codes:" in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        main(["promote"])
    assert done.value.code == 2


def test_export_and_model_card_of_production(sample: Path) -> None:
    assert main(["pipeline"]) == 0
    assert main(["export", "--output", "models/candidate"]) == 0
    assert list((sample / "models" / "candidate").rglob("MLmodel"))
    assert main(["card", "--output", "dist/card.md"]) == EXIT_REGISTRY

    assert main(["promote", "--version", "1"]) == 0
    assert main(["card", "--output", "dist/card.md"]) == 0
    assert main(["export", "--alias", "production", "--output", "dist/model"]) == 0

    card = (sample / "dist" / "card.md").read_text()
    assert card.startswith(f"# Model card: {load_settings().registry.model_name} version 1")
    assert f"- Commit: `{SHA}`" in card
    assert "## Metrics (test split)" in card
    assert list((sample / "dist" / "model").rglob("MLmodel"))


def test_errors_are_annotated_in_github_actions(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert main(["validate"]) == EXIT_DATA
    assert capsys.readouterr().out.startswith("::error title=DataError::")


def test_a_command_exits_with_its_code_and_its_whole_output(project: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "{{ cookiecutter.module_name }}", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=project)

    wrote = cli("data")
    assert wrote.returncode == 0
    assert wrote.stdout.startswith("wrote ")
    assert wrote.stdout.endswith(".csv\n")
    bad = cli("--config", "missing.yaml", "validate")
    assert bad.returncode == 2
    assert "missing.yaml: file not found" in bad.stderr


def test_imports_pause_the_collector_and_freeze_what_they_loaded() -> None:
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        # A long-lived process (these tests): the collector is paused, nothing is frozen.
        frozen = gc.get_freeze_count()
        with importing():
            assert not gc.isenabled()
        assert gc.isenabled()
        assert gc.get_freeze_count() == frozen
        # The program's own process (cli.main without argv): what is alive is frozen after.
        timings.ends_with_command()
        with importing():
            loaded = [object()]  # stands for a module's objects, alive until the process ends
        assert gc.isenabled()
        assert gc.get_freeze_count() > frozen
        # Tracked, yet in no generation a collection scans.
        assert gc.is_tracked(loaded)
        assert all(tracked is not loaded for tracked in gc.get_objects())
        gc.disable()
        with importing():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        timings.ends_with_command(False)
        gc.unfreeze()
        if was_enabled:
            gc.enable()
        else:
            gc.disable()


def test_the_logged_model_pins_what_it_runs_on_and_loads_and_predicts(project: Path) -> None:
    import mlflow

    from {{ cookiecutter.module_name }} import model_files

    assert main(["data"]) == 0
    assert main(["train"]) == 0
    uri = json.loads((project / "reports" / "metrics.json").read_text())["model_uri"]
    pins = Path(mlflow.pyfunc.get_model_dependencies(uri)).read_text().split()
    assert set(model_files.requirements()) <= set(pins)
    model = mlflow.sklearn.load_model(uri)
    frame = pd.read_csv(project / "data" / "raw" / "training.csv")
    assert len(model.predict(frame.drop(columns="target").head(3))) == 3
