"""Your own data: the sample never overwrites a file, schemas are inferred, versions recorded."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tables
import yaml
from conftest import DATA_PATH, TASK, edit_config
from mlflow.tracking import MlflowClient

from {{ cookiecutter.module_name }} import data, lineage
from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.config import load_settings
from {{ cookiecutter.module_name }}.core import split
from {{ cookiecutter.module_name }}.core.validation import validate
from {{ cookiecutter.module_name }}.errors import EXIT_DATA, EXIT_USAGE, ConfigError
from {{ cookiecutter.module_name }}.schema import load_schema
from {{ cookiecutter.module_name }}.stages import schema
from {{ cookiecutter.module_name }}.stages.schema import set_data_keys


def messy_table(rows: int = 240, seed: int = 0) -> pd.DataFrame:
    """A table shaped like real ones: ids, text categoricals, yes/no, gaps, a rare class."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 72, rows)
    spend = rng.normal(70, 20, rows).round(2)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(rows)],
            "plan": rng.choice(["basic", "pro", "team"], rows),
            "paperless": rng.choice(["yes", "no"], rows),
            "tenure": tenure,
            "monthly spend": spend,
            "region": rng.choice(["north", "south", None], rows),
            "on": rng.choice(["on", "off"], rows),
        }
    )
    frame.loc[::17, "monthly spend"] = np.nan
    if TASK == "classification":
        frame["churned"] = np.where(tenure < 20, "yes", "no")
        frame.loc[0, "churned"] = "maybe"  # a class with one member
    else:
        frame["churned"] = (tenure * 3.5 + rng.normal(0, 5, rows)).round(1)
    return frame


def test_make_data_refuses_to_overwrite_and_force_replaces(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / DATA_PATH
    path.parent.mkdir(parents=True)
    path.write_text("mine,not,the,sample\n")

    assert main(["data"]) == EXIT_USAGE

    assert path.read_text() == "mine,not,the,sample\n"
    error = capsys.readouterr().err.strip()
    assert error == (
        f"error: {DATA_PATH} exists: not replacing it with the sample "
        "(make data FORCE=1 to overwrite)"
    )
    assert main(["data", "--force"]) == 0
    assert path.read_text().startswith(pd.read_csv(path).columns[0])
    assert not list(path.parent.glob(".*.partial"))


def test_a_folder_as_data_path_is_one_line(project: Path) -> None:
    (project / DATA_PATH).mkdir(parents=True)
    assert main(["data"]) == EXIT_USAGE
    assert main(["validate"]) == EXIT_USAGE


def test_stages_write_the_sample_only_at_its_own_missing_path(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sample = data.SAMPLE_PATHS[TASK]
    edit_config(project, lambda raw: raw["data"].update(path=str(sample)))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")

    assert main(["validate"]) == 0

    captured = capsys.readouterr()
    assert sample.exists()
    assert f"notice: no data at {sample}: wrote the bundled sample there" in captured.err
    assert "::notice title=Sample data::" in captured.out
    before = sample.read_bytes()
    assert main(["validate"]) == 0
    assert sample.read_bytes() == before


def test_missing_data_that_dvc_tracks_is_never_replaced_by_the_sample(project: Path) -> None:
    sample = data.SAMPLE_PATHS[TASK]
    edit_config(project, lambda raw: raw["data"].update(path=str(sample)))
    sample.parent.mkdir(parents=True)
    lineage.dvc_file(sample).write_text("outs:\n- md5: 0123\n  path: x.csv\n")

    assert main(["validate"]) == EXIT_DATA
    assert not sample.exists()
    with pytest.raises(Exception, match="make data-pull"):
        data.read_csv(sample)


def test_schema_is_inferred_from_a_messy_table(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = project / "data" / "raw" / "customers.csv"
    source.parent.mkdir(parents=True)
    messy_table().to_csv(source, index=False)
    (project / "config" / "test_schema.yaml").unlink()

    assert main(["schema", "--input", "data/raw/customers.csv", "--target", "churned"]) == 0

    out = capsys.readouterr().out
    assert out.startswith("wrote config/test_schema.yaml: 8 columns")
    assert out.strip().endswith("set data.path and data.target in config/pipeline.yaml")
    settings = load_settings()
    assert settings.data.path == Path("data/raw/customers.csv")
    assert settings.data.target == "churned"
    text = (project / "config" / "test_schema.yaml").read_text()
    rules = load_schema("config/test_schema.yaml").columns
    assert '"yes"' in text, "text values must be written quoted"
    assert '"on"' in text, "keys YAML reads as booleans must be quoted"
    assert rules["paperless"].allowed == ["no", "yes"]
    assert rules["on"].allowed == ["off", "on"]
    assert (rules["tenure"].dtype, rules["tenure"].min) == ("int", 0)
    assert (rules["monthly spend"].dtype, rules["monthly spend"].nullable) == ("float", True)
    assert (rules["region"].nullable, rules["region"].allowed) == (True, ["north", "south"])
    assert (rules["customer_id"].dtype, rules["customer_id"].allowed) == ("str", None)
    if TASK == "classification":
        assert rules["churned"].allowed == ["maybe", "no", "yes"]
    else:
        assert rules["churned"].dtype == "float"
        assert rules["churned"].min is not None
    assert validate(pd.read_csv(source), load_schema("config/test_schema.yaml")).passed


def test_schema_refuses_to_overwrite_and_names_bad_targets(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (project / "config" / "test_schema.yaml").read_text()
    source = project / "customers.csv"
    messy_table(300).to_csv(source, index=False)

    assert main(["schema", "--input", str(source), "--target", "churned"]) == EXIT_USAGE
    assert main(["schema", "--input", str(source), "--target", "nope", "--force"]) == EXIT_USAGE
    assert main(["schema", "--input", "missing.csv", "--force"]) == EXIT_DATA

    errors = capsys.readouterr().err.strip().splitlines()
    assert errors[0].endswith("exists: not overwriting it (make schema FORCE=1 to replace it)")
    assert errors[1].startswith("error: target 'nope' is not a column of the data")
    assert (project / "config" / "test_schema.yaml").read_text() == before
    wrong_kind = "plan" if TASK == "regression" else "customer_id"
    assert main(["schema", "--input", str(source), "--target", wrong_kind, "--force"]) == 2
    assert (project / "config" / "test_schema.yaml").read_text() == before


def test_inference_recognises_ids_dates_and_free_text() -> None:
    frame = tables.mixed_table(TASK, rows=300)
    frame["joined"] = "2024-03-0" + (frame.index % 9 + 1).astype(str)
    frame["seen_at"] = "2024-03-01T10:" + (frame.index % 50 + 10).astype(str) + ":00"
    frame["review"] = [f"order {i} arrived late and the box was damaged" for i in frame.index]

    columns = schema.infer(frame, tables.TARGET, TASK)["columns"]

    assert columns["customer_id"] == {
        "dtype": "str",
        "role": "id",
        "nullable": False,
        "unique": True,
    }
    assert columns["joined"]["dtype"] == "date"
    assert columns["seen_at"]["dtype"] == "datetime"
    assert columns["review"]["dtype"] == "text"
    assert columns[tables.TARGET]["role"] == "target"
    # A non-ISO date stays text until the user declares its format.
    assert columns["signup"]["dtype"] == "str"


def test_inference_scales_without_python_loops() -> None:
    rows = 200_000
    frame = pd.DataFrame(
        {f"x{i}": np.arange(rows, dtype=float) * (i + 1) for i in range(5)}
        | {"label": np.where(np.arange(rows) % 3 == 0, "a", "b")}
    )
    inferred = schema.infer(frame, "label", "classification")
    assert inferred["columns"]["x0"] == {
        "dtype": "int",
        "nullable": False,
        "min": 0,
        "max": 219999,
    }
    assert inferred["min_rows"] == rows // 2


def test_unquoted_yes_no_in_the_schema_is_a_one_line_config_error(project: Path) -> None:
    path = project / "config" / "bad_schema.yaml"
    path.write_text("columns:\n  paperless: {dtype: str, allowed: [yes, no]}\n")

    with pytest.raises(ConfigError) as error:
        load_schema(path)

    message = str(error.value)
    assert "\n" not in message
    assert "columns.paperless" in message
    assert 'quote the values, e.g. allowed: ["yes", "no"]' in message


def test_set_data_keys_keeps_comments_and_names_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text("# top\ndata:\n  # where\n  path: a.csv\n  target: y\nmodel: {}\n")
    set_data_keys(path, {"path": "b b.csv", "target": "yes"})
    assert path.read_text() == (
        '# top\ndata:\n  # where\n  path: "b b.csv"\n  target: "yes"\nmodel: {}\n'
    )
    assert yaml.safe_load(path.read_text())["data"]["target"] == "yes"
    with pytest.raises(ConfigError, match="data.seed not found"):
        set_data_keys(path, {"seed": "1"})
    (tmp_path / "none.yaml").write_text("model: {}\n")
    with pytest.raises(ConfigError, match="no `data:` block"):
        set_data_keys(tmp_path / "none.yaml", {"path": "x"})


def test_registered_version_and_card_name_the_dvc_data_version(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data"]) == 0
    path = project / DATA_PATH
    _, md5 = lineage.digests(path)
    lineage.dvc_file(path).write_text(f"outs:\n- md5: {md5}\n  size: 1\n  hash: md5\n  path: x\n")

    assert main(["pipeline"]) == 0
    assert main(["promote", "--version", "1"]) == 0
    assert main(["card", "--output", "card.md"]) == 0

    client = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
    version = client.get_model_version(load_settings().registry.model_name, "1")
    assert version.tags["data_dvc_md5"] == md5 == version.tags["data_md5"]
    assert client.get_run(version.run_id).data.tags["data_dvc_md5"] == md5
    assert f"- Training data version (DVC md5): `{md5}`" in Path("card.md").read_text()
    assert f"DVC md5 `{md5}`" in Path("reports/report.md").read_text()


def test_data_that_differs_from_its_dvc_file_is_not_registered(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data"]) == 0
    path = project / DATA_PATH
    lineage.dvc_file(path).write_text("outs:\n- md5: 00000000000000000000000000000000\n  path: x\n")

    assert main(["pipeline"]) == EXIT_DATA

    err = capsys.readouterr().err
    assert "warning: the data (md5" in err
    assert err.strip().splitlines()[-1].startswith("error: not registering: the data (md5")
    client = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
    assert client.search_model_versions(f"name='{load_settings().registry.model_name}'") == []
    lineage.dvc_file(path).write_text("not: [a dvc file")
    assert main(["train"]) == EXIT_DATA


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


def test_a_split_shares_label_objects_and_one_index_per_side() -> None:
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"x": rng.random(300), "y": rng.choice(["rare", "common"], 300, p=[0.1, 0.9])}
    )
    frame["y"] = frame["y"].astype("str")
    frame.index = frame.index * 7
    parts = split.split(frame, "y", 0.25, 42, stratify=True)
    assert parts.y_train.dtype == object
    assert len({id(label) for label in parts.y_train}) == 2  # one object per class
    assert parts.y_train.index is parts.x_train.index
    assert parts.y_test.index is parts.x_test.index
    assert parts.x_train.index.isin(frame.index).all()  # the rows keep their labels
    # the rows the split of the plain labels gives
    _, test = train_test_split(frame["x"], test_size=0.25, random_state=42, stratify=frame["y"])
    assert parts.x_test["x"].tolist() == test.tolist()
    numbers = split.split(frame.assign(y=(frame["y"] == "rare").astype(int)), "y", 0.25, 42, True)
    assert numbers.y_train.dtype == np.int64  # numeric labels stay as they are
