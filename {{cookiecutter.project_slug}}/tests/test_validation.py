"""Every schema rule reports its column, rule and count; valid data passes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.module_name }} import data
from {{ cookiecutter.module_name }}.config import ColumnRule, Schema, load_schema
from {{ cookiecutter.module_name }}.errors import DataError
from {{ cookiecutter.module_name }}.validation import validate, validate_or_raise

SCHEMA = Schema(
    min_rows=3,
    max_duplicate_rows=0,
    columns={
        "size": ColumnRule(dtype="float", min=0.0, max=10.0),
        "count": ColumnRule(dtype="int", nullable=True),
        "label": ColumnRule(dtype="str", allowed=["a", "b"]),
    },
)
GOOD = pd.DataFrame({"size": [1.0, 2.5, 3.0], "count": [1, None, 3], "label": ["a", "b", "a"]})


def _violations(frame: pd.DataFrame) -> set[tuple[str, str, int]]:
    return {(v.column, v.rule, v.count) for v in validate(frame, SCHEMA).violations}


def test_valid_data_passes() -> None:
    report = validate(GOOD, SCHEMA)
    assert report.passed
    assert report.summary() == "data valid: 3 rows, 3 columns"


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (GOOD.drop(columns="label"), {("label", "present", 1)}),
        (GOOD.assign(size=[1.0, None, None]), {("size", "nullable", 2)}),
        (GOOD.assign(size=[-1.0, 11.0, 12.0]), {("size", "min", 1), ("size", "max", 2)}),
        (GOOD.assign(size=["x", 2.0, 3.0]), {("size", "dtype", 1)}),
        (GOOD.assign(count=[1.5, 2, 3]), {("count", "dtype", 1)}),
        (GOOD.assign(label=["a", "c", "d"]), {("label", "allowed", 2)}),
        (GOOD.assign(extra=1), {("extra", "declared", 1)}),
        (GOOD.head(2), {("(table)", "min_rows", 2)}),
        (pd.concat([GOOD, GOOD.head(1)]), {("(table)", "duplicate_rows", 1)}),
    ],
    ids=["missing", "nulls", "range", "dtype-float", "dtype-int", "label", "extra", "rows", "dup"],
)
def test_each_rule_reports_column_rule_and_count(frame: pd.DataFrame, expected: set) -> None:
    assert _violations(frame) == expected


def test_failure_writes_every_violation_and_raises_one_line(tmp_path: Path) -> None:
    bad = GOOD.assign(size=[-1.0, None, 3.0], label=["a", "z", "b"])
    path = tmp_path / "validation.json"

    with pytest.raises(DataError) as error:
        validate_or_raise(bad, SCHEMA, path)

    assert "\n" not in str(error.value)
    assert "size min (1: values below 0.0)" in str(error.value)
    body = json.loads(path.read_text())
    assert body["passed"] is False
    assert {(v["column"], v["rule"]) for v in body["violations"]} == {
        ("size", "nullable"),
        ("size", "min"),
        ("label", "allowed"),
    }


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
