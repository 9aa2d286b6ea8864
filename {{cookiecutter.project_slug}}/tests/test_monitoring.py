"""After deployment: drift of a batch against production's reference profile (make monitor) and
production's performance on new labelled data (make evaluate), on tables shaped like real ones,
with a real MLflow store: the profile comes from the registry, never from the training data."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import tables
from conftest import DATA_PATH, PROJECT_ROOT, TASK
from mlflow.tracking import MlflowClient

from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.config import MonitoringSettings, load_settings
from {{ cookiecutter.module_name }}.core import drift as monitoring
from {{ cookiecutter.module_name }}.errors import (
    EXIT_DATA,
    EXIT_DECAY,
    EXIT_DRIFT,
    EXIT_REGISTRY,
)

LINEAR = {
    "classification": "sklearn.linear_model.LogisticRegression",
    "regression": "sklearn.linear_model.Ridge",
}
DTYPES = {"plan": "str", "city": "str", "active": "bool", "tenure": "int", "spend": "float"}
DTYPES |= {"signup": "date", "notes": "text"}


def _profile(frame: pd.DataFrame, rows: int = 5000) -> dict:
    return monitoring.profile(
        DTYPES, frame[list(DTYPES)], lambda x: np.zeros(len(x)), "regression", rows, seed=0
    )


def _drifted(frame: pd.DataFrame) -> pd.DataFrame:
    """Spend tripled, the team plan everywhere, new cities, tenure missing in half the rows."""
    frame = frame.copy()
    frame["spend"] = frame["spend"] * 3
    frame["plan"] = "team"
    frame["city"] = [f"new-city-{i % 7}" for i in range(len(frame))]
    frame.loc[frame.index[::2], "tenure"] = np.nan
    return frame


@pytest.mark.parametrize("small", [True, False], ids=["test", "distance"])
def test_a_batch_like_the_training_data_does_not_drift(small: bool) -> None:
    reference = _profile(tables.mixed_table(TASK, rows=1500, seed=0))
    batch = tables.mixed_table(TASK, rows=1500, seed=1)
    settings = MonitoringSettings(small_sample=2000 if small else 1000)

    # Even where the model leans on the numbers only, chance alone does not raise an alarm.
    reference["importance"] = {"spend": 0.5, "tenure": 0.5}

    report = monitoring.compare(reference, batch, np.zeros(len(batch)), settings)

    assert not report["drift"], report["reasons"]
    assert report["drifted_columns"] == []
    method = report["columns"]["spend"]["method"]
    assert method.startswith("Kolmogorov-Smirnov" if small else "Wasserstein")
    method = report["columns"]["plan"]["method"]
    assert method.startswith("chi-square" if small else "Jensen-Shannon")
    # Dates and free text are not tested, only their missing values.
    assert report["columns"]["signup"]["method"] is None
    assert report["columns"]["notes"]["kind"] == "other"


@pytest.mark.parametrize("small", [True, False], ids=["test", "distance"])
def test_each_kind_of_drift_is_named_per_column(small: bool) -> None:
    reference = _profile(tables.mixed_table(TASK, rows=1500, seed=0))
    batch = _drifted(tables.mixed_table(TASK, rows=1500, seed=1))
    settings = MonitoringSettings(small_sample=2000 if small else 1000)

    report = monitoring.compare(reference, batch, np.ones(len(batch)), settings)

    assert report["drift"]
    assert set(report["drifted_columns"]) == {"spend", "plan", "city", "tenure"}
    columns = report["columns"]
    assert columns["city"]["unseen_share"] == 1.0
    assert any("unseen categories" in reason for reason in columns["city"]["reasons"])
    assert any("missing values" in reason for reason in columns["tenure"]["reasons"])
    assert report["drift_share"] == pytest.approx(4 / len(DTYPES))
    # Every prediction moved from 0 to 1.
    assert report["prediction"]["drifted"]
    assert any("predictions drifted" in reason for reason in report["reasons"])


def test_the_drift_share_and_prediction_settings_decide() -> None:
    reference = _profile(tables.mixed_table(TASK, rows=800, seed=0))
    batch = tables.mixed_table(TASK, rows=800, seed=1)
    batch["spend"] = batch["spend"] * 3
    # Only the share decides here: no strong-drift or importance rule, no prediction drift.
    lenient = MonitoringSettings(
        drift_share=0.5, strong_distance=100, importance_share=None, prediction_drift=False
    )

    report = monitoring.compare(reference, batch, np.ones(len(batch)), lenient)

    assert report["drifted_columns"] == ["spend"]
    assert not report["drift"]
    strict = MonitoringSettings(drift_share=0.1)
    assert monitoring.compare(reference, batch, np.zeros(len(batch)), strict)["drift"]


@pytest.mark.parametrize("small", [True, False], ids=["test", "distance"])
def test_one_column_moved_by_2_sd_flags_the_batch_alone(small: bool) -> None:
    reference = _profile(tables.mixed_table(TASK, rows=1500, seed=0))
    batch = tables.mixed_table(TASK, rows=1500, seed=1)
    batch["tenure"] = batch["tenure"] + 2 * batch["tenure"].std()
    settings = MonitoringSettings(small_sample=2000 if small else 1000)

    report = monitoring.compare(reference, batch, np.zeros(len(batch)), settings)

    assert report["drifted_columns"] == ["tenure"]
    assert report["drift_share"] < settings.drift_share
    assert report["drift"]
    assert report["strong_columns"] == ["tenure"]
    assert report["reasons"][0].startswith("tenure drifted strongly (Wasserstein (std units) ")


def test_a_mild_drift_flags_the_batch_only_in_a_column_the_model_leans_on() -> None:
    reference = _profile(tables.mixed_table(TASK, rows=800, seed=0))
    batch = tables.mixed_table(TASK, rows=800, seed=1)
    batch["spend"] = batch["spend"] * 1.1  # significant, well below strong_distance
    settings = MonitoringSettings()

    unweighted = monitoring.compare(reference, batch, np.zeros(len(batch)), settings)

    assert unweighted["drifted_columns"] == ["spend"]
    assert unweighted["strong_columns"] == []
    assert not unweighted["drift"]
    elsewhere = reference | {"importance": {"spend": 0.05, "tenure": 0.95}}
    assert not monitoring.compare(elsewhere, batch, np.zeros(len(batch)), settings)["drift"]

    leaned_on = reference | {"importance": {"spend": 0.6, "tenure": 0.4}}
    report = monitoring.compare(leaned_on, batch, np.zeros(len(batch)), settings)

    assert report["drift"]
    assert report["columns"]["spend"]["importance"] == 0.6
    assert report["reasons"] == [
        "spend drifted and carries 60% of the model's importance (>= 25%): "
        + report["columns"]["spend"]["reasons"][0]
    ]
    off = MonitoringSettings(importance_share=None)
    assert not monitoring.compare(leaned_on, batch, np.zeros(len(batch)), off)["drift"]


def test_a_strong_distance_below_the_distance_is_refused() -> None:
    with pytest.raises(ValueError, match="strong_distance must be at least distance"):
        MonitoringSettings(distance=0.2, strong_distance=0.1)


def test_the_reference_keeps_a_bounded_sample() -> None:
    frame = tables.mixed_table(TASK, rows=3000, seed=0)

    reference = _profile(frame, rows=500)

    assert reference["rows"] == 3000
    assert len(reference["columns"]["spend"]["values"]) <= 500
    assert sum(reference["columns"]["city"]["counts"].values()) == 3000
    assert reference["columns"]["spend"]["missing"] == pytest.approx(frame["spend"].isna().mean())


@pytest.fixture
def production(project: Path) -> Path:
    """The mixed table trained, registered and promoted: version 1 @production."""
    tables.use_mixed_table(project, TASK, LINEAR[TASK])
    assert main(["pipeline"]) == 0
    assert main(["promote", "--version", "1"]) == 0
    return project


def _batch(project: Path, name: str, frame: pd.DataFrame) -> str:
    frame.to_csv(project / name, index=False)
    return name


def _runs(kind: str) -> list:
    client = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
    experiments = [experiment.experiment_id for experiment in client.search_experiments()]
    return client.search_runs(experiments, filter_string=f"tags.kind = '{kind}'")


def test_monitor_reads_the_reference_from_the_registry_and_logs_a_linked_run(
    production: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (production / DATA_PATH).unlink()  # monitoring needs the registry, not the training data
    batch = tables.mixed_table(TASK, rows=300, seed=4).drop(columns=[tables.TARGET])
    name = _batch(production, "batch.csv", batch)
    capsys.readouterr()

    assert main(["monitor", "--input", name]) == 0, capsys.readouterr().err

    assert "no drift" in capsys.readouterr().out
    report = json.loads((production / "reports" / "drift.json").read_text())
    assert report["model_version"] == "1"
    assert report["rows"] == 300
    assert not report["drift"]
    assert "<img" in (production / "reports" / "drift.html").read_text()
    (run,) = _runs("monitoring")
    assert run.data.tags["model_version"] == "1"
    assert run.data.metrics["drift"] == 0.0
    artifacts = MlflowClient().list_artifacts(run.info.run_id)
    assert {artifact.path for artifact in artifacts} == {"drift.json", "drift.html", "drift.md"}


def test_monitor_exits_6_with_one_line_when_the_batch_drifted(
    production: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = _drifted(tables.mixed_table(TASK, rows=300, seed=4)).drop(columns=[tables.TARGET])
    name = _batch(production, "drifted.csv", batch)
    capsys.readouterr()

    assert main(["monitor", "--input", name]) == EXIT_DRIFT

    error = capsys.readouterr().err.strip()
    assert error.startswith("error: drift: ")
    assert "\n" not in error
    report = json.loads((production / "reports" / "drift.json").read_text())
    assert report["drift"]
    assert {"spend", "plan", "city"} <= set(report["drifted_columns"])
    (run,) = _runs("monitoring")
    assert run.data.metrics["drift"] == 1.0


def test_monitor_flags_a_batch_whose_most_important_column_moved_and_whose_mix_changed(
    production: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model_name = load_settings().registry.model_name
    version = MlflowClient().get_model_version_by_alias(model_name, "production")
    reference = mlflow.artifacts.load_dict(f"runs:/{version.run_id}/monitoring/reference.json")
    importance = reference["importance"]
    assert sum(importance.values()) == pytest.approx(1.0)
    numeric = [name for name, entry in reference["columns"].items() if entry["kind"] == "numeric"]
    leaned_on = max(numeric, key=importance.get)
    batch = tables.mixed_table(TASK, rows=300, seed=4).drop(columns=[tables.TARGET])
    training = pd.read_csv(production / DATA_PATH)
    batch[leaned_on] = (batch[leaned_on] + 2 * training[leaned_on].std()).round()
    batch["plan"] = np.where(np.arange(len(batch)) % 10 < 8, "basic", "team")
    name = _batch(production, "moved.csv", batch)
    capsys.readouterr()

    assert main(["monitor", "--input", name]) == EXIT_DRIFT

    report = json.loads((production / "reports" / "drift.json").read_text())
    # Too few columns drifted for the share to decide: the strong drift of one column did.
    assert report["drift_share"] < report["drift_share_threshold"]
    assert leaned_on in report["strong_columns"]
    assert any(reason.startswith(f"{leaned_on} drifted strongly") for reason in report["reasons"])
    assert "plan" in report["drifted_columns"]
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: drift: ")
    assert f"{leaned_on} drifted strongly" in error


def test_outputs_with_rows_of_the_data_stay_out_of_git(
    production: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every writer of a file with rows, at the paths the Makefile gives them.
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    outputs = dict(re.findall(r"^([\w-]+): OUTPUT \?= (\S+)$", makefile, re.MULTILINE))
    shutil.copy(PROJECT_ROOT / ".gitignore", production / ".gitignore")
    labelled = tables.mixed_table(TASK, rows=60, seed=4)
    _batch(production, "labelled.csv", labelled)
    _batch(production, "batch.csv", labelled.drop(columns=[tables.TARGET]))
    commands = [
        ["predict", "--input", "batch.csv", "--output", outputs["predict"]],
        ["example-input", "--output", outputs["example-input"]],
        ["monitor", "--input", "batch.csv"],
        ["evaluate", "--input", "labelled.csv"],
        ["export", "--alias", "production", "--output", "dist/model"],
    ]
    for command in commands:
        assert main(command) in (0, EXIT_DRIFT, EXIT_DECAY), capsys.readouterr().err
    written = {path.name for path in (production / "reports").iterdir()}
    assert {"predictions.csv", "example-input.csv", "drift.html", "evaluation.json"} <= written

    subprocess.run(["git", "init", "-q"], cwd=production, check=True)
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--", "reports", "dist"],
        cwd=production,
        check=True,
        capture_output=True,
        text=True,
    )

    assert status.stdout == ""


def test_monitor_and_evaluate_fail_closed(
    production: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = tables.mixed_table(TASK, rows=50, seed=4)
    name = _batch(production, "no_spend.csv", batch.drop(columns=["spend"]))
    capsys.readouterr()

    assert main(["monitor", "--input", name]) == EXIT_DATA
    assert "missing column(s) the model needs: 'spend'" in capsys.readouterr().err
    assert main(["evaluate", "--input", name]) == EXIT_DATA
    assert main(["monitor", "--input", name, "--alias", "nobody"]) == EXIT_REGISTRY
    unlabelled = _batch(production, "unlabelled.csv", batch.drop(columns=[tables.TARGET]))
    assert main(["evaluate", "--input", unlabelled]) == EXIT_DATA
    assert "evaluation needs labels" in capsys.readouterr().err


def test_predict_with_an_extra_column_warns_once_naming_it(
    production: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = tables.mixed_table(TASK, rows=40, seed=4).drop(columns=[tables.TARGET])
    # Columns the schema declares but the model does not use (ids, group, ignored) are expected.
    name = _batch(production, "batch.csv", batch.assign(region="north", exported_by="crm"))
    capsys.readouterr()

    assert main(["predict", "--input", name, "--output", "preds.csv"]) == 0

    err = capsys.readouterr().err
    extra = [line for line in err.splitlines() if "the model does not know" in line]
    assert len(extra) == 1, err
    assert extra[0].endswith("column(s) the model does not know, ignored: 'region', 'exported_by'")
    assert "customer_id" not in extra[0]
    assert "branch" not in extra[0]
    assert len(pd.read_csv(production / "preds.csv")) == 40


def test_predict_with_a_renamed_column_names_the_new_name(
    production: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = tables.mixed_table(TASK, rows=40, seed=4).drop(columns=[tables.TARGET])
    name = _batch(production, "batch.csv", batch.rename(columns={"tenure": "tenure_months"}))
    capsys.readouterr()

    assert main(["predict", "--input", name, "--output", "preds.csv"]) == EXIT_DATA

    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
    assert errors == [
        "error: batch.csv: missing column(s) the model needs: 'tenure' "
        "('tenure' missing, 'tenure_months' not declared: renamed?)"
    ]
    assert not (production / "preds.csv").exists()

{%- if cookiecutter.task == "classification" %}


def test_evaluate_with_a_label_unseen_in_training_names_the_label_and_the_column(
    production: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labelled = tables.mixed_table(TASK, rows=200, seed=5)
    labelled.loc[[3, 9, 40], tables.TARGET] = "paused"
    name = _batch(production, "labelled.csv", labelled)
    capsys.readouterr()

    assert main(["evaluate", "--input", name]) == EXIT_DATA

    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
    assert errors == [
        "error: labelled.csv: column 'outcome': label(s) 'paused' (3 rows) not seen in training "
        "(known: 'leave', 'stay')"
    ]
    assert not (production / "reports" / "evaluation.json").exists()
    assert _runs("evaluation") == []
{%- endif %}


def test_evaluate_scores_production_on_new_labels_against_the_gate(
    production: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = tables.mixed_table(TASK, rows=400, seed=5)
    name = _batch(production, "labelled.csv", fresh)
    capsys.readouterr()

    assert main(["evaluate", "--input", name]) == 0, capsys.readouterr().err

    body = json.loads((production / "reports" / "evaluation.json").read_text())
    assert body["passed"]
    assert body["rows"] == int(fresh[tables.TARGET].notna().sum())
    assert "at training" in (production / "reports" / "evaluation.md").read_text()
    (run,) = _runs("evaluation")
    assert run.data.tags["model_version"] == "1"

    # The world changed: the labels no longer follow the features the model learnt from.
    decayed = fresh.copy()
    if TASK == "classification":
        decayed[tables.TARGET] = decayed[tables.TARGET].map({"stay": "leave", "leave": "stay"})
    else:
        decayed[tables.TARGET] = decayed[tables.TARGET][::-1].to_numpy() * 3
    name = _batch(production, "decayed.csv", decayed)
    capsys.readouterr()

    assert main(["evaluate", "--input", name]) == EXIT_DECAY

    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
    assert len(errors) == 1
    assert errors[0].startswith("error: version 1 below the gate")
    assert not json.loads((production / "reports" / "evaluation.json").read_text())["passed"]


def test_refresh_adds_new_labelled_rows_only_when_the_result_is_valid(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = tables.use_mixed_table(project, TASK, LINEAR[TASK], rows=200)
    before = (project / DATA_PATH).read_bytes()
    labelled = tables.mixed_table(TASK, rows=30, seed=9)
    labelled["customer_id"] = [f"N{i:06d}" for i in range(30)]
    new = labelled[labelled[tables.TARGET].notna()]
    # One row the training data already has is not added twice.
    with_repeat = pd.concat([labelled, frame.iloc[[0]]], ignore_index=True)
    name = _batch(project, "labelled.csv", with_repeat)
    capsys.readouterr()

    assert main(["refresh", "--input", name]) == 0, capsys.readouterr().err

    assert f"({len(new)} new from labelled.csv)" in capsys.readouterr().out
    refreshed = pd.read_csv(project / DATA_PATH, dtype={"customer_id": str})
    assert len(refreshed) == len(frame) + len(new)
    assert refreshed["customer_id"].tolist()[-len(new) :] == new["customer_id"].tolist()

    # A value the schema forbids: exit 3, the training data untouched.
    (project / DATA_PATH).write_bytes(before)
    labelled.loc[0, "plan"] = "enterprise"
    name = _batch(project, "bad.csv", labelled)
    assert main(["refresh", "--input", name]) == EXIT_DATA
    assert (project / DATA_PATH).read_bytes() == before
    name = _batch(project, "short.csv", labelled.drop(columns=["spend"]))
    assert main(["refresh", "--input", name]) == EXIT_DATA
    assert "missing column(s) of the schema: spend" in capsys.readouterr().err
    assert (project / DATA_PATH).read_bytes() == before
