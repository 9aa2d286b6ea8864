"""Figures: which plots each kind of model gets, drawn from the answers its metrics used, logged
with the run and listed in the pull-request report."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import TASK
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.svm import LinearSVC

from {{ cookiecutter.module_name }} import figures
from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.config import load_settings
from {{ cookiecutter.module_name }}.core.metrics import outputs
from {{ cookiecutter.module_name }}.stages.gate import figure_links
from {{ cookiecutter.module_name }}.tracking import LoggedRun

PNG = b"\x89PNG\r\n\x1a\n"
IMPORTANCE = {"a": 0.7, "b": 0.2, "c": 0.1}


def _table(labels: list[str] | None, rows: int = 300) -> tuple[pd.DataFrame, pd.Series]:
    """Three features; the target follows ``a`` (a class per band of it, or a number)."""
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(rows, 3)), columns=list(IMPORTANCE))
    signal = x["a"] + rng.normal(0, 0.3, rows)
    if labels is None:
        return x, 3 * signal
    bands = pd.qcut(signal, len(labels), labels=False)
    return x, pd.Series(np.array(labels)[bands])


def _drawn(task: str, model, labels: list[str] | None, out: Path) -> list[str]:
    x, y = _table(labels)
    model.fit(x[:200], y[:200])
    paths = figures.write_figures(task, y[200:], outputs(task, model, x[200:]), IMPORTANCE, out)
    assert all(path.read_bytes().startswith(PNG) for path in paths)
    return [path.name for path in paths]


def test_a_multiclass_model_with_probabilities_gets_every_curve_one_vs_rest(
    tmp_path: Path,
) -> None:
    labels = ["cat", "dog", "owl"]
    model = LogisticRegression()
    names = _drawn("classification", model, labels, tmp_path)

    assert names == list(figures.FIGURES["classification"])
    x, y = _table(labels)
    curves = figures.one_vs_rest(y.to_numpy(), outputs("classification", model, x))
    assert [name for name, _, _ in curves] == labels
    for column, (label, truth, scores) in enumerate(curves):
        assert truth.tolist() == (y == label).astype(int).tolist()
        assert np.array_equal(scores, model.predict_proba(x)[:, column])


def test_a_binary_model_gets_one_curve_of_its_positive_class(tmp_path: Path) -> None:
    model = LogisticRegression()
    names = _drawn("classification", model, ["no", "yes"], tmp_path)

    assert names == list(figures.FIGURES["classification"])
    x, y = _table(["no", "yes"])
    answers = outputs("classification", model, x)
    ((label, truth, scores),) = figures.one_vs_rest(y.to_numpy(), answers)
    assert label == "yes"
    assert truth.sum() == (y == "yes").sum()
    assert np.array_equal(scores, model.predict_proba(x)[:, 1])


@pytest.mark.parametrize("labels", [["no", "yes"], ["cat", "dog", "owl"]])
def test_without_predict_proba_roc_and_pr_come_from_decision_function_and_no_calibration(
    tmp_path: Path, labels: list[str]
) -> None:
    model = LinearSVC()
    names = _drawn("classification", model, labels, tmp_path)

    assert not hasattr(model, "predict_proba")
    # ROC and precision-recall curves, but no calibration curve: no probabilities to calibrate.
    assert names == [
        "confusion_matrix.png",
        "roc_curve.png",
        "precision_recall_curve.png",
        "permutation_importance.png",
    ]
    x, y = _table(labels)
    answers = outputs("classification", model, x)
    assert not answers.probabilities
    decision = model.decision_function(x)
    for column, (_, _, scores) in enumerate(figures.one_vs_rest(y.to_numpy(), answers)):
        assert np.array_equal(scores, decision if decision.ndim == 1 else decision[:, column])


def test_a_test_split_of_one_class_gets_no_curves(tmp_path: Path) -> None:
    x, y = _table(["no", "yes"])
    model = LogisticRegression().fit(x, y)
    only_yes = y == "yes"
    answers = outputs("classification", model, x[only_yes])

    paths = figures.write_figures("classification", y[only_yes], answers, IMPORTANCE, tmp_path)

    assert [path.name for path in paths] == ["confusion_matrix.png", "permutation_importance.png"]


def test_a_regression_model_gets_residuals_and_importance(tmp_path: Path) -> None:
    names = _drawn("regression", Ridge(), None, tmp_path)

    assert names == ["residuals.png", "predicted_vs_actual.png", "permutation_importance.png"]


def test_the_importance_plot_shows_the_largest_shares_largest_on_top() -> None:
    shares = {f"x{number}": number / 300 for number in range(25)}

    figure = figures.importance_figure(shares)

    (axis,) = figure.axes
    # Bars from the bottom up: the smallest shown share first, the largest last (on top).
    names = [label.get_text() for label in axis.get_yticklabels()]
    widths = [patch.get_width() for patch in axis.patches]
    expected = sorted(shares.items(), key=lambda item: item[1])[-figures.TOP_FEATURES :]
    assert names == [name for name, _ in expected]
    assert widths == pytest.approx([share for _, share in expected])
    assert "top 20 of 25" in axis.get_title()


def test_train_logs_every_figure_of_the_task_and_the_report_lists_them(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["data"]) == 0
    assert main(["train"]) == 0
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.example")
    monkeypatch.setenv("GITHUB_REPOSITORY", "team/project")
    monkeypatch.setenv("GITHUB_RUN_ID", "4242")
    assert main(["gate"]) == 0

    record = json.loads((project / "reports" / "metrics.json").read_text())
    expected = [f"figures/{name}" for name in figures.FIGURES[TASK]]
    assert record["figures"] == expected
    assert sorted(path.name for path in (project / "reports" / "figures").glob("*.png")) == sorted(
        figures.FIGURES[TASK]
    )
    client = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
    logged = [item.path for item in client.list_artifacts(record["run_id"], "figures")]
    assert sorted(logged) == sorted(expected)
    report = (project / "reports" / "report.md").read_text()
    assert "https://github.example/team/project/actions/runs/4242" in report
    for path in expected:
        assert f"- `{path}`" in report


def test_many_classes_get_curves_of_the_largest_only(tmp_path: Path) -> None:
    labels = [f"class-{number:02d}" for number in range(figures.TOP_CLASSES + 4)]
    x, y = _table(labels, rows=2000)
    y[:300] = "class-00"  # the largest class by far
    model = LogisticRegression().fit(x, y)
    answers = outputs("classification", model, x)

    curves = figures.one_vs_rest(y.to_numpy(), answers)

    assert len(curves) == figures.TOP_CLASSES
    assert curves[0][0] == "class-00"
    names = [name for name, _, _ in curves]
    assert names == sorted(names)  # in the model's order
    counts = y.value_counts()
    assert min(counts[name] for name in names) >= max(
        counts[name] for name in labels if name not in names
    )


def test_with_a_tracking_server_the_report_links_each_figure_in_its_ui(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://mlflow.example/")
    run = LoggedRun("r1", "models:/m-1", "3")

    links = figure_links(load_settings(), run, ["figures/roc_curve.png"])

    page = "https://mlflow.example/#/experiments/3/runs/r1/artifactPath/figures/roc_curve.png"
    assert links == [f"[`figures/roc_curve.png`]({page})"]
