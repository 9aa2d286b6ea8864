"""Every schema rule reports its column, rule, count and CSV lines; valid data passes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
import tables
import yaml
from conftest import DATA_PATH, TASK

from {{ cookiecutter.module_name }} import data
from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.config import CsvSettings
from {{ cookiecutter.module_name }}.core.validation import pandera_schema, validate
from {{ cookiecutter.module_name }}.errors import EXIT_DATA
from {{ cookiecutter.module_name }}.schema import ColumnRule, Schema, load_schema

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
        (GOOD.assign(size=[1.0, np.inf, 3.0]), {("size", "dtype", 1), ("size", "max", 1)}),
        (
            GOOD.assign(label=["a", "  ", None]),
            {("label", "dtype", 1), ("label", "allowed", 1), ("label", "nullable", 1)},
        ),
    ],
    ids=[
        "missing",
        "nulls",
        "range",
        "dtype-float",
        "dtype-int",
        "label",
        "extra",
        "rows",
        "dup",
        "infinite",
        "blank",
    ],
)
def test_each_rule_reports_column_rule_and_count(frame: pd.DataFrame, expected: set) -> None:
    assert _violations(frame) == expected


def test_a_failure_lists_every_violation_in_the_report_and_one_line() -> None:
    bad = GOOD.assign(size=[-1.0, None, 3.0], label=["a", "z", "b"])

    report = validate(bad, SCHEMA)

    assert "\n" not in report.summary()
    assert "size min (1: values below 0.0)" in report.summary()
    body = json.loads(json.dumps(report.as_dict()))
    assert body["passed"] is False
    assert {(v["column"], v["rule"]) for v in body["violations"]} == {
        ("size", "nullable"),
        ("size", "min"),
        ("label", "allowed"),
    }


def test_the_schema_is_a_pandera_schema_a_team_can_use_directly() -> None:
    checks = pandera_schema(SCHEMA)

    assert isinstance(checks, pa.DataFrameSchema)
    assert list(checks.columns) == ["size", "count", "label"]
    checks.validate(GOOD)
    with pytest.raises(pa.errors.SchemaError):
        checks.validate(GOOD.assign(label=["a", "b", "c"]))


def _mixed_csv(path: Path, change) -> tuple[pd.DataFrame, Schema]:
    """The tests' mixed table (ids, dates, yes/no, gaps, free text, rare values) changed by
    ``change``, written as a CSV and read back as `make validate` reads it, with its schema."""
    change(tables.mixed_table(TASK, rows=300)).to_csv(path, index=False)
    schema = Schema.model_validate(yaml.safe_load(tables.schema_text(TASK)))
    dtypes = {name: rule.dtype for name, rule in schema.columns.items()}
    return data.read_csv(path, dtypes=dtypes), schema


def _with_rule(schema: Schema, name: str, rule: ColumnRule) -> Schema:
    return schema.model_copy(update={"columns": schema.columns | {name: rule}})


def test_unique_ids_report_each_repeat_and_ignore_missing_ids(tmp_path: Path) -> None:
    def repeat_ids(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[[10, 20, 30], "customer_id"] = "C000001"  # three repeats of row 1's id
        frame.loc[40, "customer_id"] = "C000002"
        return frame

    frame, schema = _mixed_csv(tmp_path / "ids.csv", repeat_ids)
    report = validate(frame, schema, target=tables.TARGET, task=TASK)

    assert [(v.column, v.rule, v.count, v.lines) for v in report.violations] == [
        ("customer_id", "unique", 4, [12, 22, 32, 42])
    ]
    # 104 missing ids (the repeats among them): missing values are not repeats.
    missing = frame.index.isin([10, 20, 30, 40]) | (frame.index >= 200)
    gaps = frame.assign(customer_id=frame["customer_id"].mask(missing))
    nullable = ColumnRule(dtype="str", role="id", unique=True, nullable=True)
    assert validate(gaps, _with_rule(schema, "customer_id", nullable), target=tables.TARGET).passed
    repeats_allowed = ColumnRule(dtype="str", role="id")
    assert validate(frame, _with_rule(schema, "customer_id", repeats_allowed)).passed


def test_lines_are_the_csv_lines_of_the_bad_values(tmp_path: Path) -> None:
    def spoil(frame: pd.DataFrame) -> pd.DataFrame:
        frame["tenure"] = frame["tenure"].astype(object)
        frame.loc[[7, 3, 250], "tenure"] = [500, -1, 999]
        frame.loc[[5, 6], "active"] = ["maybe", "perhaps"]
        frame.loc[9, "signup"] = "2024-13-45"
        return frame

    path = tmp_path / "spoiled.csv"
    frame, schema = _mixed_csv(path, spoil)
    violations = {(v.column, v.rule): v for v in validate(frame, schema).violations}

    assert set(violations) == {
        ("tenure", "min"),
        ("tenure", "max"),
        ("active", "dtype"),
        ("signup", "dtype"),
    }
    lines = path.read_text().splitlines()  # line n of the file is lines[n - 1]
    tenure = [lines[n - 1].split(",")[5] for n in violations["tenure", "max"].lines]
    assert (violations["tenure", "max"].lines, tenure) == ([9, 252], ["500", "999"])
    assert violations["tenure", "min"].lines == [5]
    assert lines[5 - 1].split(",")[5] == "-1"
    assert violations["active", "dtype"].lines == [7, 8]
    assert ",perhaps," in lines[8 - 1]
    assert violations["signup", "dtype"].detail == (
        "values that are not %d/%m/%Y dates (e.g. '2024-13-45')"
    )
    assert "2024-13-45" in lines[violations["signup", "dtype"].lines[0] - 1]


def test_messages_use_the_users_values_and_stay_bounded(tmp_path: Path) -> None:
    def spoil(frame: pd.DataFrame) -> pd.DataFrame:
        frame["spend"] = frame["spend"].astype(object)
        frame.loc[2, "spend"] = "inf"
        frame.loc[3, "tenure"] = 1000
        frame.loc[4, "plan"] = "gold"
        frame.loc[5:120, "city"] = None  # 116 missing values
        return frame.assign(**{f"extra_{i}": 1 for i in range(12)})

    frame, schema = _mixed_csv(tmp_path / "long.csv", spoil)
    report = validate(frame, schema)
    line = report.summary()

    assert "spend dtype (1: values that are not finite float numbers (e.g. inf)) on line 4" in line
    assert "np." not in line
    assert "plan allowed (1: values outside [basic, pro, team]) on line 6" in line
    assert (
        "city nullable (116: missing values in a non-nullable column) on lines 7, 8, 9, 10, 11, ..."
        in line
    )
    assert len(report.violations) == 16  # four rules and twelve undeclared columns
    assert line.endswith("; and 6 more (every one in reports/validation.json)")
    assert len(line) < 1000


def test_a_long_value_is_cut_with_a_count_of_what_is_left_out() -> None:
    frame = GOOD.assign(size=pd.Series(["1.0", "9" * 30 + "abc" * 100, "3.0"], dtype=object))

    (violation,) = validate(frame, SCHEMA).violations

    assert violation.detail == (
        "values that are not finite float numbers (e.g. '" + "9" * 30 + "abcabcabc... "
        "(+292 characters))"
    )


def test_a_fraction_typed_into_a_whole_number_column_is_named_as_written(tmp_path: Path) -> None:
    def type_fraction(frame: pd.DataFrame) -> pd.DataFrame:
        frame["tenure"] = frame["tenure"].astype(object)
        frame.loc[3, "tenure"] = "59.24"
        frame.loc[8, "tenure"] = "0.5"
        return frame

    frame, schema = _mixed_csv(tmp_path / "fraction.csv", type_fraction)
    line = validate(frame, schema).summary()

    detail = "values that are not a whole number (e.g. 59.24)"
    assert f"tenure dtype (2: {detail}) on lines 5, 10" in line
    assert "np." not in line
    assert "finite" not in line


def test_numbers_with_a_thousands_separator_suggest_data_csv_thousands(tmp_path: Path) -> None:
    def group_thousands(frame: pd.DataFrame) -> pd.DataFrame:
        frame["spend"] = frame["spend"].astype(object)
        frame.loc[3, "spend"] = "12,500"
        return frame

    path = tmp_path / "thousands.csv"
    frame, schema = _mixed_csv(path, group_thousands)
    (violation,) = validate(frame, schema).violations

    assert violation.detail == (
        "values that are not finite float numbers (e.g. '12,500': thousands separator? "
        "set data.csv.thousands)"
    )
    # The setting it names reads the file: 12,500 is 12500.
    dtypes = {name: rule.dtype for name, rule in schema.columns.items()}
    fixed = data.read_csv(path, CsvSettings(thousands=","), dtypes)
    assert validate(fixed, schema).passed
    assert fixed.loc[3, "spend"] == 12500
    # Digits, a comma and other than three digits: a decimal comma.
    comma = validate(frame.assign(spend=frame["spend"].replace("12,500", "12,5")), schema)
    assert "(e.g. '12,5': a decimal comma? set data.csv.decimal)" in comma.summary()


def test_a_renamed_column_is_named_with_the_undeclared_one_that_appeared(tmp_path: Path) -> None:
    frame, schema = _mixed_csv(
        tmp_path / "renamed.csv", lambda f: f.rename(columns={"tenure": "tenure_months"})
    )
    line = validate(frame, schema).summary()

    assert "tenure present (1: 'tenure' missing, 'tenure_months' not declared: renamed?)" in line
    assert "tenure_months declared (1: column not declared in the schema)" in line
    # A missing column with nothing new in its place: no hint.
    dropped = validate(frame.drop(columns=["tenure_months"]), schema).summary()
    assert "tenure present (1: column missing from the data)" in dropped
    assert "renamed?" not in dropped


def test_make_validate_exits_3_with_one_line_and_writes_the_lines_to_the_report(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    estimator = "sklearn.linear_model." + (
        "LogisticRegression" if TASK == "classification" else "Ridge"
    )
    tables.use_mixed_table(project, TASK, estimator, rows=200)
    path = project / DATA_PATH
    frame = pd.read_csv(path, dtype=str)
    frame.loc[[4, 150], "customer_id"] = frame.loc[0, "customer_id"]
    frame.to_csv(path, index=False)

    assert main(["validate"]) == EXIT_DATA

    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        "error: data invalid: 1 violation(s): customer_id unique (2: values already in an "
        "earlier row) on lines 6, 152"
    )
    body = json.loads((project / "reports" / "validation.json").read_text())
    assert (body["passed"], body["rows"]) == (False, 200)
    assert body["violations"] == [
        {
            "column": "customer_id",
            "rule": "unique",
            "count": 2,
            "detail": "values already in an earlier row",
            "lines": [6, 152],
        }
    ]


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
