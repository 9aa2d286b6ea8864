"""What keeps a large table's memory down changes nothing a user sees: single-precision columns
(schema precision: single), labels shared per class, the blockwise scaler, the C-ordered feature
block and the integer-coded metrics give what the plain code gives, and a model trained on
single-precision data still takes doubles from a CSV or a request."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tables
import yaml
from conftest import SCHEMA_FILE, TASK

from {{ cookiecutter.module_name }} import data, features, metrics
from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.config import ColumnRule, load_schema
from {{ cookiecutter.module_name }}.validation import validate


def _table(path: Path, rows: int = 997) -> pd.DataFrame:
    """Floats with gaps, an int column that gains a gap late, text, an id."""
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "row_id": [f"R{i:05d}" for i in range(rows)],
            "price": rng.gamma(2.0, 10.0, rows).round(4),
            "count": rng.integers(0, 50, rows),
            "ratio": rng.random(rows),
            "city": rng.choice(["Lyon", "Oslo", "Kyiv"], rows),
        }
    )
    frame.loc[rng.random(rows) < 0.1, "price"] = np.nan
    frame["count"] = frame["count"].astype(object)
    frame.loc[rows - 3, "count"] = None  # past the first chunks: the column turns float
    frame.to_csv(path, index=False)
    return pd.read_csv(path)


def test_single_precision_columns_are_float32_and_the_rest_is_what_pandas_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "CHUNK_ROWS", 100)
    expected = _table(tmp_path / "t.csv")
    single = {"price", "count", "city"}  # city is text: precision never makes it a number
    frame = data.read_csv(tmp_path / "t.csv", single=single)

    assert frame["price"].dtype == np.float32
    assert frame["count"].dtype == np.float32
    for name in ("price", "count"):
        np.testing.assert_array_equal(frame[name], expected[name].to_numpy(np.float32))
    pd.testing.assert_frame_equal(
        frame.drop(columns=["price", "count"]), expected.drop(columns=["price", "count"])
    )
    header_only = tmp_path / "empty.csv"
    header_only.write_text("price,city\n")
    assert data.read_csv(header_only, single=single).columns.tolist() == ["price", "city"]


def test_precision_applies_to_float_columns_only() -> None:
    assert ColumnRule(dtype="float", precision="single").precision == "single"
    with pytest.raises(ValueError, match="precision applies to float columns, not int"):
        ColumnRule(dtype="int", precision="single")


def test_bounds_hold_at_single_precision(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_text("x\n0.1\n0.05\n0.1000001\n")
    frame = data.read_csv(path, single={"x"})
    schema = load_schema_text(
        tmp_path, "columns:\n  x: {dtype: float, max: 0.1, precision: single}\n"
    )
    # 0.1 is the bound itself at 32 bits, not above it; 0.1000001 is above it even there.
    report = validate(frame, schema)
    assert [(v.rule, v.count) for v in report.violations] == [("max", 1)]


def load_schema_text(tmp_path: Path, text: str):
    (tmp_path / "schema.yaml").write_text(text)
    return load_schema(tmp_path / "schema.yaml")


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


def test_a_split_shares_label_objects_and_one_index_per_side() -> None:
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"x": rng.random(300), "y": rng.choice(["rare", "common"], 300, p=[0.1, 0.9])}
    )
    frame["y"] = frame["y"].astype("str")
    frame.index = frame.index * 7
    parts = data.split(frame, "y", 0.25, 42, stratify=True)
    assert parts.y_train.dtype == object
    assert len({id(label) for label in parts.y_train}) == 2  # one object per class
    assert parts.y_train.index is parts.x_train.index
    assert parts.y_test.index is parts.x_test.index
    assert parts.x_train.index.isin(frame.index).all()  # the rows keep their labels
    # the rows the split of the plain labels gives
    _, test = train_test_split(frame["x"], test_size=0.25, random_state=42, stratify=frame["y"])
    assert parts.x_test["x"].tolist() == test.tolist()
    numbers = data.split(frame.assign(y=(frame["y"] == "rare").astype(int)), "y", 0.25, 42, True)
    assert numbers.y_train.dtype == np.int64  # numeric labels stay as they are


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


def test_one_dense_block_goes_on_c_ordered_and_never_as_the_callers_array() -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer

    frame = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [4.0, 5.0, np.nan]})
    ours = features.Columns([("n", SimpleImputer(), ["a", "b"])]).fit_transform(frame)
    plain = ColumnTransformer([("n", SimpleImputer(), ["a", "b"])]).fit_transform(frame)
    np.testing.assert_array_equal(ours, plain)
    assert ours.flags.c_contiguous
    array = np.arange(12.0).reshape(4, 3)
    passed = features.Columns([("p", "passthrough", [0, 1, 2])]).fit_transform(array)
    np.testing.assert_array_equal(passed, array)
    assert not np.shares_memory(passed, array)


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


def test_a_config_error_for_precision_is_one_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = yaml.safe_load((project / SCHEMA_FILE).read_text())
    name = next(name for name, rule in schema["columns"].items() if rule["dtype"] == "float")
    schema["columns"][name] |= {"dtype": "int", "precision": "single"}
    (project / SCHEMA_FILE).write_text(yaml.safe_dump(schema))
    code = main(["validate"])
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert len(err.splitlines()) == 1
    assert f"columns.{name}" in err
    assert "precision applies to float columns" in err
