"""Both tasks, without MLflow: sample data, pipeline, metrics and figures."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tables
from conftest import SCHEMA_FILE, TASK
from scipy import sparse

from {{ cookiecutter.module_name }} import config, data
from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.core import drift, features, metrics, split
from {{ cookiecutter.module_name }}.core.metrics import outputs, score
from {{ cookiecutter.module_name }}.core.model import build_pipeline
from {{ cookiecutter.module_name }}.core.validation import validate
from {{ cookiecutter.module_name }}.errors import ConfigError
from {{ cookiecutter.module_name }}.figures import FIGURES, write_figures
from {{ cookiecutter.module_name }}.metric_names import HIGHER_IS_BETTER
from {{ cookiecutter.module_name }}.schema import load_schema

CASES = {
    "classification": ("sklearn.ensemble.RandomForestClassifier", {"n_estimators": 20}),
    "regression": ("sklearn.linear_model.Ridge", {}),
}
ESTIMATORS = {
    "classification": ["sklearn.linear_model.LogisticRegression"],
    "regression": ["sklearn.linear_model.Ridge"],
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
    estimator, params = CASES[task]
    frame = data.read_csv(data.write_sample(task, tmp_path / "sample.csv"))
    schema_path = tmp_path / "schema.yaml"
    schema_path.write_text(SCHEMA_TEXT[task] + "max_duplicate_rows: 1\n")
    schema = load_schema(schema_path)
    assert validate(frame, schema).passed

    parts = split.split(frame, "target", 0.25, 0, stratify=task == "classification")
    model = build_pipeline(
        config.ModelSettings(estimator=estimator, params=params), schema, "target", 0, task
    )
    model.fit(parts.x_train, parts.y_train)
    metrics = score(task, model, parts.x_test, parts.y_test)
    answers = outputs(task, model, parts.x_test)
    importance = drift.importance(model, parts.x_test, parts.y_test, task, 0)
    figures = write_figures(task, parts.y_test, answers, importance, tmp_path / "figures")

    # rmse_vs_baseline needs the baseline: train adds it.
    assert set(metrics) == set(HIGHER_IS_BETTER[task]) - {"rmse_vs_baseline"}
    assert [p.name for p in figures] == list(FIGURES[task])  # every one: predict_proba
    assert model.named_steps["model"].get_params().get("random_state", 0) == 0


def test_categorical_columns_are_one_hot_encoded(tmp_path: Path) -> None:
    schema_path = tmp_path / "schema.yaml"
    schema_path.write_text(
        "columns:\n  x: {dtype: float}\n  colour: {dtype: str}\n  y: {dtype: int}\n"
    )
    settings = config.ModelSettings(estimator="sklearn.linear_model.LogisticRegression")
    model = build_pipeline(settings, load_schema(schema_path), "y", 0, "classification")
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
        ("sklearn.linear_model.Ridge", {"nonsense": 1}, "model.params.nonsense"),
        ("sklearn.linear_model.LogisticRegression", {}, "not a regression estimator"),
        ("sklearn.ensemble.StackingRegressor", {}, "needs constructor arguments"),
        ("sklearn.linear_model.MultiTaskLasso", {}, "needs several target columns"),
    ],
    ids=[
        "no-class",
        "no-module",
        "not-estimator",
        "bad-param",
        "wrong-task",
        "needs-arguments",
        "multi-output",
    ],
)
def test_bad_model_config_is_a_config_error(
    tmp_path: Path, estimator: str, params: dict, message: str
) -> None:
    schema_path = tmp_path / "schema.yaml"
    schema_path.write_text("columns:\n  x: {dtype: float}\n  y: {dtype: float}\n")
    settings = config.ModelSettings(estimator=estimator, params=params)
    with pytest.raises(ConfigError, match=message):
        build_pipeline(settings, load_schema(schema_path), "y", 0, "regression")


def _mixed(tmp_path: Path, task: str = TASK):
    schema_path = tmp_path / "schema.yaml"
    schema_path.write_text(tables.schema_text(task))
    schema = load_schema(schema_path)
    frame = tables.mixed_table(task)
    frame = frame[frame[tables.TARGET].notna()]
    x = frame.drop(columns=tables.TARGET)
    return schema, x, frame[tables.TARGET]


def test_a_target_transform_fits_on_the_transformed_target(tmp_path: Path) -> None:
    from sklearn.compose import TransformedTargetRegressor

    schema, x, y = _mixed(tmp_path, "regression")
    settings = config.ModelSettings(
        estimator="sklearn.linear_model.Ridge", target_transform="log1p"
    )
    model = build_pipeline(settings, schema, tables.TARGET, 0, "regression").fit(x, y)
    assert isinstance(model.named_steps["model"], TransformedTargetRegressor)
    assert model.predict(x).min() > 0  # expm1 of a log: never negative


def test_roles_and_dtypes_choose_the_preprocessing(tmp_path: Path) -> None:
    schema, x, y = _mixed(tmp_path)
    settings = config.ModelSettings(estimator=ESTIMATORS[TASK][0])
    model = build_pipeline(settings, schema, tables.TARGET, 0, TASK).fit(x, y)
    preprocess = model.named_steps["preprocess"]
    used = {name: list(columns) for name, _, columns in preprocess.transformers}
    assert used == {
        "numeric": ["tenure", "spend"],
        "bool": ["active"],
        "date_signup": ["signup"],
        "categorical": ["plan", "city"],
        "text_notes": ["notes"],
    }
    names = list(preprocess.get_feature_names_out())
    # Calendar features, never one category per day; the id and ignored columns are not inputs.
    assert "date_signup__signup_month" in names
    assert not any("customer_id" in name or "exported_at" in name for name in names)
    # city has 120 values: bounded at max_categories (19 kept + one "infrequent").
    assert sum(name.startswith("categorical__city_") for name in names) == 20


@pytest.mark.parametrize(
    ("estimator", "dense"),
    [
        ("sklearn.ensemble.HistGradientBoosting{}", True),
        ("sklearn.linear_model.{}", False),
    ],
)
def test_dense_or_sparse_features_follow_the_estimator(
    tmp_path: Path, estimator: str, dense: bool
) -> None:
    schema, x, y = _mixed(tmp_path)
    name = estimator.format(
        {"classification": "Classifier", "regression": "Regressor"}[TASK]
        if "Hist" in estimator
        else {"classification": "LogisticRegression", "regression": "Ridge"}[TASK]
    )
    model = build_pipeline(config.ModelSettings(estimator=name), schema, tables.TARGET, 0, TASK)
    features = model.named_steps["preprocess"].fit_transform(x, y)
    assert sparse.issparse(features) is not dense
    model.fit(x, y)
    assert set(score(TASK, model, x, y)) <= set(HIGHER_IS_BETTER[TASK])


@pytest.mark.parametrize("encoder", ["onehot", "ordinal", "target"])
def test_every_categorical_encoder_trains(tmp_path: Path, encoder: str) -> None:
    schema, x, y = _mixed(tmp_path)
    preprocessing = config.PreprocessingSettings(categorical_encoder=encoder, min_frequency=5)
    settings = config.ModelSettings(estimator=ESTIMATORS[TASK][0], preprocessing=preprocessing)
    model = build_pipeline(settings, schema, tables.TARGET, 0, TASK).fit(x, y)
    assert len(model.predict(x.head(3))) == 3


def _estimators() -> list[tuple[str, type]]:
    from sklearn.utils import all_estimators

    kind = {"classification": "classifier", "regression": "regressor"}[TASK]
    modules = ("sklearn.ensemble", "sklearn.linear_model", "sklearn.svm", "sklearn.neighbors")
    found = []
    for name, cls in all_estimators(type_filter=kind):
        dotted = f"{cls.__module__.split('._')[0]}.{name}"
        if dotted.startswith(modules):
            found.append((dotted, cls))
    return found


def test_every_estimator_of_the_task_trains_on_mixed_data_or_says_why(tmp_path: Path) -> None:
    """Each estimator in sklearn.ensemble/linear_model/svm/neighbors either fits the mixed table
    and scores, or is refused with a one-line ConfigError naming model.estimator."""
    schema, x, y = _mixed(tmp_path)
    trained, refused = [], {}
    for dotted, _ in _estimators():
        settings = config.ModelSettings(estimator=dotted)
        try:
            model = build_pipeline(settings, schema, tables.TARGET, 0, TASK)
        except ConfigError as error:
            refused[dotted] = str(error)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence warnings on a 400-row table
            model.fit(x, y)
        assert set(score(TASK, model, x, y)), dotted
        trained.append(dotted)
    print(f"trained: {trained}\nrefused: {refused}")
    assert len(trained) >= 15, trained
    assert all(message.startswith("model.estimator:") for message in refused.values()), refused
    # Only estimators that need constructor arguments or several targets are refused.
    assert all(
        "constructor arguments" in message or "several target" in message
        for message in refused.values()
    ), refused


def test_the_blockwise_scaler_fits_what_the_standard_scaler_fits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sklearn.preprocessing import StandardScaler

    monkeypatch.setattr(features, "SCALER_BLOCK_ROWS", 64)
    rng = np.random.default_rng(1)
    x = (rng.normal(5.0, 3.0, size=(1000, 4)) * [1, 10, 100, 1e4]).astype(np.float32)
    x[rng.random(x.shape) < 0.05] = np.nan
    ours = features.BlockwiseStandardScaler().fit(x)
    plain = StandardScaler().fit(x)
    np.testing.assert_allclose(ours.mean_, plain.mean_, rtol=1e-6)
    np.testing.assert_allclose(ours.var_, plain.var_, rtol=1e-6)
    np.testing.assert_array_equal(ours.n_samples_seen_, plain.n_samples_seen_)
    np.testing.assert_allclose(ours.transform(x), plain.transform(x), rtol=1e-5, equal_nan=True)


@pytest.mark.parametrize(
    ("labels", "weights"),
    [
        (["no", "yes"], [0.9, 0.1]),
        (["rare", "mid", "common"], [0.02, 0.38, 0.6]),
        ([3, 1, 2], None),
    ],
)
def test_metrics_on_coded_labels_are_the_metrics_on_the_labels(labels, weights) -> None:
    from sklearn import metrics as m
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(2)
    y = pd.Series(rng.choice(labels, 2000, p=weights))
    x = rng.normal(size=(2000, 3)) + (y == labels[0]).to_numpy()[:, None]
    model = LogisticRegression().fit(x[:1000], y[:1000])
    x_test, y_test = x[1000:], y[1000:]
    scored = metrics.score("classification", model, x_test, y_test)
    predicted = model.predict(x_test)
    assert scored["accuracy"] == m.accuracy_score(y_test, predicted)
    assert scored["f1_macro"] == pytest.approx(
        m.f1_score(y_test, predicted, average="macro"), abs=1e-15
    )
    scores = model.predict_proba(x_test)
    assert scored["log_loss"] == pytest.approx(
        m.log_loss(y_test, scores, labels=model.classes_), abs=1e-12
    )
    expected = (
        m.roc_auc_score(y_test, scores[:, 1])
        if len(labels) == 2
        else m.roc_auc_score(y_test, scores, multi_class="ovr", labels=model.classes_)
    )
    assert scored["roc_auc"] == pytest.approx(expected, abs=1e-12)


def test_a_model_trained_on_single_precision_data_predicts_from_doubles(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    estimator = "sklearn.linear_model." + (
        "LogisticRegression" if TASK == "classification" else "Ridge"
    )
    tables.use_mixed_table(project, TASK, estimator)
    schema = (project / SCHEMA_FILE).read_text()
    schema = schema.replace(
        "spend: {dtype: float, nullable: true, min: 0.0}",
        "spend: {dtype: float, nullable: true, min: 0.0, precision: single}",
    )
    assert "precision: single" in schema
    (project / SCHEMA_FILE).write_text(schema)

    assert main(["pipeline"]) == 0, capsys.readouterr().err
    assert main(["promote", "--version", "1"]) == 0
    record = json.loads((project / "reports" / "metrics.json").read_text())
    import mlflow

    info = mlflow.models.get_model_info(record["model_uri"])
    types = {column["name"]: column["type"] for column in info.signature.inputs.to_dict()}
    assert types["spend"] == "double"  # what a CSV or JSON request brings
    batch = tables.mixed_table(TASK, rows=40, seed=5).drop(columns=[tables.TARGET])
    batch.to_csv(project / "batch.csv", index=False)
    capsys.readouterr()
    assert main(["predict", "--input", "batch.csv", "--output", "out/preds.csv"]) == 0
    assert len(pd.read_csv(project / "out" / "preds.csv")) == 40
    model = mlflow.pyfunc.load_model(record["model_uri"])  # MLflow's own schema enforcement
    assert len(model.predict(pd.read_csv(project / "batch.csv"))) == 40
