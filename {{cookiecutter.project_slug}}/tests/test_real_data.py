"""A table in the shapes real data has, through the CLI: an id, a date, a yes/no column, a
high-cardinality category, free text, a group, missing features and labels — validated, trained
with a linear model and with HistGradientBoosting, gated against the baseline, promoted, and
predicted with the ids carried through and unseen values counted."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import tables
from conftest import DATA_PATH, TASK, edit_config

from {{ cookiecutter.module_name }} import data
from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.config import load_settings
from {{ cookiecutter.module_name }}.core.split import checked_split
from {{ cookiecutter.module_name }}.errors import EXIT_DATA, EXIT_GATE
from {{ cookiecutter.module_name }}.schema import load_schema

LINEAR = {
    "classification": "sklearn.linear_model.LogisticRegression",
    "regression": "sklearn.linear_model.Ridge",
}
BOOSTING = {
    "classification": "sklearn.ensemble.HistGradientBoostingClassifier",
    "regression": "sklearn.ensemble.HistGradientBoostingRegressor",
}


@pytest.mark.parametrize("estimator", [LINEAR[TASK], BOOSTING[TASK]], ids=["linear", "boosting"])
def test_mixed_table_trains_gates_on_the_baseline_and_predicts_with_ids(
    project: Path, capsys: pytest.CaptureFixture[str], estimator: str
) -> None:
    frame = tables.use_mixed_table(project, TASK, estimator)

    assert main(["pipeline"]) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    # Missing labels are dropped and counted, the high-cardinality column is flagged.
    missing = int(frame[tables.TARGET].isna().sum())
    assert f"outcome: dropped {missing} row(s) without a target value" in err
    assert f"city: {frame['city'].nunique()} distinct values (high cardinality)" in err
    validation = json.loads((project / "reports" / "validation.json").read_text())
    assert validation["missing_target_dropped"] == missing
    metrics = json.loads((project / "reports" / "metrics.json").read_text())
    assert metrics["rows"] == len(frame) - missing
    gate = json.loads((project / "reports" / "gate.json").read_text())
    assert gate["passed"]
    assert all(check["beats_baseline"] for check in gate["checks"])
    assert all(check["skill"] > 0.1 for check in gate["checks"])
    report = (project / "reports" / "report.md").read_text()
    assert "baseline (skill)" in report

    assert main(["promote", "--version", "1"]) == 0
    batch = tables.mixed_table(TASK, rows=50, seed=1).drop(columns=[tables.TARGET])
    batch.loc[0, "plan"] = "enterprise"  # a category the model has never seen
    batch.loc[1, "tenure"] = 10_000  # far outside the training range
    batch.to_csv(project / "batch.csv", index=False)
    capsys.readouterr()

    assert main(["predict", "--input", "batch.csv", "--output", "out/preds.csv"]) == 0
    captured = capsys.readouterr()
    out = pd.read_csv(project / "out" / "preds.csv")
    assert list(out.columns[:2]) == ["customer_id", "prediction"]
    assert out["customer_id"].tolist() == batch["customer_id"].tolist()
    assert "plan: 1 value(s) in categories not seen in training" in captured.err
    assert "tenure: 1 value(s) outside the training range" in captured.err
    assert "wrote 50 predictions" in captured.out


def test_a_wrong_type_at_predict_time_names_the_column(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tables.use_mixed_table(project, TASK, LINEAR[TASK])
    assert main(["pipeline"]) == 0
    assert main(["promote", "--version", "1"]) == 0
    batch = tables.mixed_table(TASK, rows=20, seed=2).drop(columns=[tables.TARGET])
    batch["spend"] = batch["spend"].astype(object)
    batch.loc[3, "spend"] = "lots"
    batch.loc[4, "active"] = "maybe"
    batch.to_csv(project / "bad.csv", index=False)
    capsys.readouterr()

    assert main(["predict", "--input", "bad.csv", "--output", "preds.csv"]) == EXIT_DATA

    error = capsys.readouterr().err.strip()
    assert error.startswith("error: bad.csv: column 'active': values that are not true/false")
    assert "\n" not in error
    assert not (project / "preds.csv").exists()


def test_the_group_column_keeps_every_group_on_one_side(project: Path) -> None:
    frame = tables.use_mixed_table(project, TASK, LINEAR[TASK])
    settings = load_settings()
    schema = load_schema(settings.data.schema_file)
    labelled = frame[frame[tables.TARGET].notna()]

    parts = checked_split(settings, labelled, schema)

    train_groups = set(labelled.loc[parts.x_train.index, "branch"])
    test_groups = set(labelled.loc[parts.x_test.index, "branch"])
    assert train_groups
    assert test_groups
    assert not train_groups & test_groups
    assert len(parts.x_test) / len(labelled) == pytest.approx(settings.data.test_size, abs=0.1)


def test_a_model_no_better_than_the_baseline_fails_the_default_gate(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = tables.use_mixed_table(project, TASK, LINEAR[TASK])
    # Labels shuffled: nothing in the features predicts them any more.
    frame[tables.TARGET] = frame[tables.TARGET].sample(frac=1, random_state=3).to_numpy()
    frame.to_csv(project / DATA_PATH, index=False)

    assert main(["pipeline"]) == EXIT_GATE

    assert "skill over baseline below 10%" in (project / "reports" / "report.md").read_text()
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("error: gate failed")


@pytest.mark.parametrize(
    ("csv", "write"),
    [
        ({"sep": ";", "decimal": ","}, {"sep": ";", "decimal": ","}),
        ({"encoding": "latin-1"}, {"encoding": "latin-1"}),
    ],
    ids=["semicolon-decimal-comma", "latin-1"],
)
def test_the_csv_dialect_is_config(project: Path, csv: dict, write: dict) -> None:
    frame = tables.use_mixed_table(project, TASK, LINEAR[TASK])
    frame["city"] = frame["city"].str.replace("city-1", "Zürich-1")
    frame.to_csv(project / DATA_PATH, index=False, **write)
    edit_config(project, lambda raw: raw["data"].update(csv=csv))

    assert main(["validate"]) == 0
    read = data.read_csv(project / DATA_PATH, load_settings().data.csv)
    assert read["spend"].dtype == float
    assert read["city"].str.startswith("Zürich").any()
{%- if cookiecutter.task == "classification" %}


DUMMY = "sklearn.dummy.DummyClassifier"


def test_a_balanced_model_on_3_percent_positives_passes_the_default_gate(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    balanced = {"class_weight": "balanced", "max_iter": 1000}
    tables.use_mixed_table(project, TASK, LINEAR[TASK], 2000, balanced, leave_share=0.03)

    assert main(["pipeline"]) == 0, capsys.readouterr().err

    err = capsys.readouterr().err
    assert "warning: outcome: class 'leave' is " in err
    assert "rare below data.rare_class_share 0.05" in err
    metrics = json.loads((project / "reports" / "metrics.json").read_text())
    # Accuracy would have refused it: always answering "stay" is right 97 % of the time.
    assert metrics["metrics"]["accuracy"] < metrics["baseline_metrics"]["accuracy"]
    gate = json.loads((project / "reports" / "gate.json").read_text())
    assert gate["passed"]
    assert {check["metric"] for check in gate["checks"]} == {"balanced_accuracy", "f1_macro"}


def test_a_majority_class_model_on_3_percent_positives_fails_the_default_gate(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    majority = {"strategy": "most_frequent"}
    tables.use_mixed_table(project, TASK, DUMMY, 2000, majority, leave_share=0.03)

    assert main(["pipeline"]) == EXIT_GATE

    gate = json.loads((project / "reports" / "gate.json").read_text())
    assert not gate["passed"]
    assert all(check["beats_baseline"] is False for check in gate["checks"])
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("error: gate failed")


def test_a_class_too_rare_for_the_test_split_stops_train_naming_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 10 "leave" rows: about 2 in the stratified test split.
    tables.use_mixed_table(project, TASK, LINEAR[TASK], 2000, leave_share=0.005)

    assert main(["train"]) == EXIT_DATA

    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith(
        "error: outcome: the test split holds fewer than data.min_test_class_rows (5) rows of "
        "class 'leave' ("
    )
    assert error.endswith("add rows of that class or raise data.test_size (now 0.25)")
    assert not (project / "reports" / "metrics.json").exists()


def test_schema_of_a_table_with_3_percent_positives_warns_about_the_rare_class(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tables.mixed_table(TASK, rows=2000, leave_share=0.03).to_csv(project / "rare.csv", index=False)
    capsys.readouterr()

    assert main(["schema", "--input", "rare.csv", "--target", tables.TARGET, "--force"]) == 0

    err = capsys.readouterr().err
    assert "warning: outcome: class 'leave' is " in err
    assert "consider class_weight: balanced in model.params" in err
{%- endif %}
