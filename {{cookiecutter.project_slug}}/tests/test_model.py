"""Both tasks, without MLflow: sample data, pipeline, metrics and figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from {{ cookiecutter.module_name }} import config, data
from {{ cookiecutter.module_name }}.figures import write_figures
from {{ cookiecutter.module_name }}.metrics import HIGHER_IS_BETTER, score
from {{ cookiecutter.module_name }}.model import build_pipeline
from {{ cookiecutter.module_name }}.validation import validate

CASES = {
    "classification": (
        "sklearn.ensemble.RandomForestClassifier",
        {"n_estimators": 20},
        ["confusion_matrix.png"],
    ),
    "regression": ("sklearn.linear_model.Ridge", {}, ["residuals.png", "predicted_vs_actual.png"]),
}
FLOAT = "{dtype: float}"
REGRESSION_COLUMNS = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6", "target"]
SCHEMA_TEXT = {
    "classification": "columns:\n"
    + "".join(f"  {c}: {FLOAT}\n" for c in data.IRIS_COLUMNS)
    + "  target: {dtype: str, allowed: [setosa, versicolor, virginica]}\n",
    "regression": "columns:\n" + "".join(f"  {c}: {FLOAT}\n" for c in REGRESSION_COLUMNS),
}


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_sample_trains_scores_and_plots(tmp_path: Path, task: str) -> None:
    estimator, params, expected_figures = CASES[task]
    frame = data.read_csv(data.write_sample(task, tmp_path / "sample.csv"))
    schema_path = tmp_path / "schema.yaml"
    schema_path.write_text(SCHEMA_TEXT[task] + "max_duplicate_rows: 1\n")
    schema = config.load_schema(schema_path)
    assert validate(frame, schema).passed

    parts = data.split(frame, "target", 0.25, 0, stratify=task == "classification")
    model = build_pipeline(
        config.ModelSettings(estimator=estimator, params=params), schema, "target", 0
    )
    model.fit(parts.x_train, parts.y_train)
    metrics = score(task, model, parts.x_test, parts.y_test)
    figures = write_figures(task, model, parts.x_test, parts.y_test, tmp_path / "figures")

    assert set(metrics) == set(HIGHER_IS_BETTER[task])
    assert sorted(p.name for p in figures) == sorted(expected_figures)
    assert model.named_steps["model"].get_params().get("random_state", 0) == 0


def test_categorical_columns_are_one_hot_encoded(tmp_path: Path) -> None:
    schema_path = tmp_path / "schema.yaml"
    schema_path.write_text(
        "columns:\n  x: {dtype: float}\n  colour: {dtype: str}\n  y: {dtype: int}\n"
    )
    settings = config.ModelSettings(estimator="sklearn.linear_model.LogisticRegression")
    model = build_pipeline(settings, config.load_schema(schema_path), "y", 0)
    assert [name for name, *_ in model.named_steps["preprocess"].transformers] == [
        "numeric",
        "categorical",
    ]


@pytest.mark.parametrize(
    ("estimator", "params", "message"),
    [
        ("sklearn.linear_model.NoSuchModel", {}, "model.estimator"),
        ("sklearn.nosuchmodule.Model", {}, "model.estimator"),
        ("sklearn.metrics.accuracy_score", {}, "model.estimator"),
        ("sklearn.linear_model.Ridge", {"nonsense": 1}, "model.params"),
    ],
    ids=["no-class", "no-module", "not-estimator", "bad-param"],
)
def test_bad_model_config_is_a_config_error(
    tmp_path: Path, estimator: str, params: dict, message: str
) -> None:
    schema_path = tmp_path / "schema.yaml"
    schema_path.write_text("columns:\n  x: {dtype: float}\n  y: {dtype: float}\n")
    settings = config.ModelSettings(estimator=estimator, params=params)
    with pytest.raises(config.ConfigError, match=message):
        build_pipeline(settings, config.load_schema(schema_path), "y", 0)
