"""Issue 9's budgets, run with a generated project's Python in a scratch folder.

1. Validation of ROWS rows x 20 mixed columns (float, int, category, high-cardinality category,
   yes/no, two date formats, an id; missing values): seconds, and peak memory (RSS high-water
   mark during the call, plus the frame) over the DataFrame's own size.
2. Predict-time checks on PREDICT_ROWS rows of the generated tests' mixed table: the contract's
   check vs the whole in-process `predict` command (model loading, reading, scoring, writing).

Usage: python contract_budget.py ROWS PREDICT_ROWS PROJECT_DIR. Prints one JSON line.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

rows, predict_rows, project = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
sys.path.insert(0, str(project / "tests"))
module = next(p.parent.name for p in (project / "src").glob("*/cli.py"))
cli = importlib.import_module(f"{module}.cli")
config = importlib.import_module(f"{module}.config")
data = importlib.import_module(f"{module}.data")
schemas = importlib.import_module(f"{module}.schema")
contract = importlib.import_module(f"{module}.core.contract")
validation = importlib.import_module(f"{module}.core.validation")
predicting = importlib.import_module(f"{module}.stages.predict")
import tables  # noqa: E402  (the generated project's test tables)


def mixed_frame(count: int) -> tuple[pd.DataFrame, schemas.Schema]:
    rng = np.random.default_rng(0)
    columns, rules = {}, {}
    for i in range(6):
        values = rng.normal(50, 10, count)
        values[rng.random(count) < 0.02] = np.nan
        columns[f"f{i}"], rules[f"f{i}"] = values, {"dtype": "float", "nullable": True}
    for i in range(4):
        columns[f"i{i}"] = rng.integers(0, 1000, count)
        rules[f"i{i}"] = {"dtype": "int", "min": 0, "max": 1000}
    levels = np.array(["north", "south", "east", "west", "centre"], dtype=object)
    for i in range(3):
        columns[f"c{i}"] = pd.array(levels[rng.integers(0, 5, count)], dtype="str")
        rules[f"c{i}"] = {"dtype": "str", "allowed": levels.tolist()}
    cities = np.array([f"city-{i}" for i in range(5000)], dtype=object)
    columns["city"], rules["city"] = (
        pd.array(cities[rng.integers(0, 5000, count)], dtype="str"),
        {"dtype": "str"},
    )
    answers = np.array(["yes", "no"], dtype=object)
    for i in range(2):
        columns[f"b{i}"] = pd.array(answers[rng.integers(0, 2, count)], dtype="str")
        rules[f"b{i}"] = {"dtype": "bool"}
    days = np.datetime64("2020-01-01") + rng.integers(0, 1500, count).astype("timedelta64[D]")
    columns["d_iso"] = pd.array(days.astype(str).astype(object), dtype="str")
    rules["d_iso"] = {"dtype": "date"}
    stamps = pd.Series(days)
    columns["d_eu"] = stamps.dt.strftime("%d/%m/%Y").astype("str").array
    rules["d_eu"] = {"dtype": "date", "format": "%d/%m/%Y"}
    columns["row_id"] = pd.array([f"R{i:08d}" for i in range(count)], dtype="str")
    rules["row_id"] = {"dtype": "str", "role": "id"}
    columns["target"] = pd.array(levels[rng.integers(0, 3, count)], dtype="str")
    rules["target"] = {"dtype": "str", "role": "target", "allowed": levels[:3].tolist()}
    frame = pd.DataFrame(columns)
    schema = schemas.Schema.model_validate({"min_rows": 1, "columns": rules})
    return frame, schema


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise SystemExit(f"no {field} in /proc/self/status")


def validation_budget() -> dict:
    frame, schema = mixed_frame(rows)
    frame_bytes = int(frame.memory_usage(deep=True).sum())
    context = {"target": "target", "task": "classification", "high_cardinality": 50}
    start = time.perf_counter()
    report = validation.validate(frame, schema, **context)
    seconds = time.perf_counter() - start
    assert report.passed, report.summary()
    # Peak RSS of the call itself: reset the high-water mark (Linux: 5 > clear_refs), then read
    # it. RSS, unlike tracemalloc, also sees Arrow's memory (pandas' str columns live there).
    before = _rss_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    validation.validate(frame, schema, **context)
    peak = (_rss_kib("VmHWM") - before) * 1024
    return {
        "rows": rows,
        "columns": frame.shape[1],
        "frame_mb": round(frame_bytes / 2**20, 1),
        "validate_s": round(seconds, 3),
        "validate_peak_mb": round(peak / 2**20, 1),
        "validate_peak_over_frame": round((frame_bytes + peak) / frame_bytes, 2),
    }


def predict_budget(work: Path) -> dict:
    os.chdir(work)
    (work / "config").mkdir(exist_ok=True)
    for name in ("pipeline.yaml",):
        (work / "config" / name).write_text((project / "config" / name).read_text())
    task = config.load_settings("config/pipeline.yaml", check_schema=False).task
    train = tables.mixed_table(task, rows=2000)
    train.to_csv("train.csv", index=False)
    (work / "config" / "schema.yaml").write_text(tables.schema_text(task))
    raw = (work / "config" / "pipeline.yaml").read_text()
    raw = raw.replace("path: data/raw/iris.csv", "path: train.csv").replace(
        "path: data/raw/diabetes.csv", "path: train.csv"
    )
    (work / "config" / "pipeline.yaml").write_text(raw.replace("target: target", "target: outcome"))
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{work / 'mlflow.db'}"
    for command in (["pipeline"], ["promote", "--version", "1"]):
        if cli.main(command) != 0:
            raise SystemExit(f"{command} failed")
    batch = tables.mixed_table(task, rows=predict_rows, seed=1).drop(columns=[tables.TARGET])
    batch.to_csv("batch.csv", index=False)
    start = time.perf_counter()
    assert cli.main(["predict", "--input", "batch.csv", "--output", "preds.csv"]) == 0
    predict_s = time.perf_counter() - start
    settings = config.load_settings("config/pipeline.yaml")
    _, model_contract, _ = predicting.load_for_prediction(settings, "production")
    frame = data.read_csv(Path("batch.csv"), settings.data.csv)
    start = time.perf_counter()
    contract.check(model_contract, frame)
    check_s = time.perf_counter() - start
    return {
        "predict_rows": predict_rows,
        "predict_s": round(predict_s, 3),
        "check_s": round(check_s, 3),
        "check_share": round(check_s / predict_s, 3),
    }


if __name__ == "__main__":
    import tempfile

    result = validation_budget()
    with tempfile.TemporaryDirectory() as scratch:
        result |= predict_budget(Path(scratch))
    print(json.dumps(result))
