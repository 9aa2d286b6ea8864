"""Check a DataFrame against the declared schema with pandera; list every violation, fail closed.

``pandera_schema`` turns config/schema.yaml into a pandera ``DataFrameSchema``; ``validate``
runs it on every row and column at once (lazy) and turns pandera's failure cases into one
violation per column and rule: its count, what is wrong in the schema's words, and the first
CSV lines it is on.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from ..schema import ColumnRule, Schema
from .parsing import BOOL_VALUES, not_of_type, numbers_of, renamed, shown, type_detail
from .violations import ValidationReport, Violation

TABLE = "(table)"
# A stratified split puts each class on both sides: a class needs at least this many rows.
MIN_CLASS_ROWS = 2
# The first data row is on line 2 of the CSV (the header is line 1): row i is on line i + 2.
FIRST_LINE = 2
SHOWN_LINES = 5  # line numbers listed per violation
# The checks pandera runs by itself, named as the schema names their rules.
PANDERA_RULES = {
    "column_in_dataframe": "present",
    "column_in_schema": "declared",
    "not_nullable": "nullable",
    "field_uniqueness": "unique",
}
DETAILS = {
    "present": "column missing from the data",
    "declared": "column not declared in the schema",
    "nullable": "missing values in a non-nullable column",
    "unique": "values already in an earlier row",
    "missing_target": "rows without a target value",
}
# The order violations are listed in: table size, each column's rules, then the rest.
RULE_ORDER = [
    "min_rows",
    "present",
    "missing_target",
    "nullable",
    "dtype",
    "min",
    "max",
    "allowed",
    "unique",
    "declared",
    "duplicate_rows",
]


def repeated_rows(frame: pd.DataFrame) -> pd.Series:
    """True for each row that repeats an earlier row exactly."""
    # One 64-bit hash per row: linear time and O(rows) memory, unlike factorizing every column.
    return pd.util.hash_pandas_object(frame, index=False).duplicated()


def duplicate_rows(frame: pd.DataFrame) -> int:
    """Rows that repeat an earlier row exactly."""
    return int(repeated_rows(frame).sum())


def _allowed(rule: ColumnRule) -> list:
    if rule.precision == "single":  # a float32 column: compare at the precision it holds
        return [np.float32(a) if isinstance(a, (int, float)) else a for a in rule.allowed or []]
    return list(rule.allowed or [])


def _column_checks(rule: ColumnRule) -> list[pa.Check]:
    """The column's rules as pandera checks, each named after its rule; missing values pass."""
    checks = []
    if rule.dtype == "bool":
        checks.append(pa.Check.isin(list(BOOL_VALUES), name="dtype"))
    elif rule.dtype != "text":  # numbers, dates and blank text: the parsers' rule (parsing.py)
        checks.append(
            pa.Check(lambda values: ~not_of_type(values, rule.dtype, rule.format), name="dtype")
        )
    # Bounds compare the numbers a column holds: text in a number column is a dtype violation.
    if rule.min is not None:
        low = rule.min
        detail = f"values below {low}"
        checks.append(
            pa.Check(lambda values: ~(numbers_of(values) < low), name="min", error=detail)
        )
    if rule.max is not None:
        high = rule.max
        detail = f"values above {high}"
        checks.append(
            pa.Check(lambda values: ~(numbers_of(values) > high), name="max", error=detail)
        )
    if rule.allowed is not None:
        detail = f"values outside [{', '.join(map(str, rule.allowed))}]"
        checks.append(pa.Check.isin(_allowed(rule), name="allowed", error=detail))
    return checks


def pandera_schema(schema: Schema, target: str | None = None) -> pa.DataFrameSchema:
    """config/schema.yaml as a pandera schema: every declared column present with its rules, no
    undeclared column, at least min_rows rows. Duplicated rows are all reported (the caller
    applies max_duplicate_rows). With ``target``, missing target values fail only when the
    schema says missing_target: fail."""
    columns = {}
    for name, rule in schema.columns.items():
        nullable = rule.nullable
        if name == target:
            nullable = schema.missing_target == "drop"
        columns[name] = pa.Column(
            None,
            _column_checks(rule),
            nullable=nullable,
            unique=rule.unique,
            report_duplicates="exclude_first",
            name=name,
        )
    table = [
        pa.Check(
            lambda frame: len(frame) >= schema.min_rows,
            name="min_rows",
            error=f"fewer than {schema.min_rows} rows",
        ),
        pa.Check(lambda frame: ~repeated_rows(frame), name="duplicate_rows"),
    ]
    return pa.DataFrameSchema(columns, checks=table, strict=True)


def _violations(
    failures: pd.DataFrame,
    checks: pa.DataFrameSchema,
    schema: Schema,
    target: str | None,
    rows: int,
) -> list[Violation]:
    """pandera's failure cases as violations: one per column and rule."""
    found = []
    # A row-wise table check has a case per column of each failing row: one group for all.
    table = failures["schema_context"].eq("DataFrameSchema") & failures["check_number"].notna()
    failures = failures.assign(column=failures["column"].mask(table, TABLE))
    keys = ["schema_context", "column", "check", "check_number"]
    for (context, column, check, number), cases in failures.groupby(keys, dropna=False, sort=False):
        if check in ("column_in_dataframe", "column_in_schema"):  # one case per column
            rule = PANDERA_RULES[check]
            found += [Violation(str(name), rule, 1, DETAILS[rule]) for name in cases.failure_case]
            continue
        lines = cases["index"].dropna().astype(int)
        if context == "DataFrameSchema":  # a table check
            spec = checks.checks[int(number)]
            if spec.name == "min_rows":
                found.append(Violation(TABLE, spec.name, rows, spec.error))
                continue
            repeated = np.unique(lines.to_numpy())
            if len(repeated) > schema.max_duplicate_rows:
                detail = f"more than {schema.max_duplicate_rows} duplicated rows"
                first = repeated[:SHOWN_LINES].tolist()
                found.append(Violation(TABLE, spec.name, len(repeated), detail, first))
            continue
        spec = None if check in PANDERA_RULES else checks.columns[column].checks[int(number)]
        rule = PANDERA_RULES[check] if spec is None else spec.name
        if rule == "nullable" and column == target:
            rule = "missing_target"
        if rule == "dtype":
            declared = schema.columns[column]
            detail = type_detail(declared.dtype, declared.format, cases.failure_case.iloc[0])
        else:
            detail = DETAILS[rule] if spec is None else spec.error
        first = lines.nsmallest(SHOWN_LINES).tolist()
        found.append(Violation(column, rule, len(cases), detail, first))
    return found


def _with_renames(found: list[Violation]) -> list[Violation]:
    """A missing column's violation names the undeclared column that may be it, renamed."""
    missing = [v.column for v in found if v.rule == "present"]
    undeclared = [v.column for v in found if v.rule == "declared"]
    hints = dict(zip(missing, renamed(missing, undeclared), strict=False))
    return [
        replace(v, detail=hints[v.column]) if v.rule == "present" and v.column in hints else v
        for v in found
    ]


def _rank(order: list[str], violation: Violation) -> tuple[int, int, int]:
    rule = RULE_ORDER.index(violation.rule) if violation.rule in RULE_ORDER else len(RULE_ORDER)
    if violation.column in order:
        return 1, order.index(violation.column), rule
    return (0 if violation.rule == "min_rows" else 2), 0, rule


def check_schema(frame: pd.DataFrame, schema: Schema, target: str | None = None) -> list[Violation]:
    """Every violation of ``schema`` in ``frame`` (rows numbered as CSV lines), in schema order."""
    checks = pandera_schema(schema, target)
    # Numbered as the CSV's lines, pandera's failure cases name the line of each value.
    numbered = frame.set_axis(pd.RangeIndex(FIRST_LINE, FIRST_LINE + len(frame)))
    try:
        checks.validate(numbered, lazy=True, inplace=True)
        return []
    except SchemaErrors as errors:
        found = _violations(errors.failure_cases, checks, schema, target, len(frame))
    found = _with_renames(found)
    order = list(schema.columns)
    return sorted(found, key=lambda violation: _rank(order, violation))


def _labels(labels: pd.Series, target: str) -> list[Violation]:
    """Classes a stratified split cannot put on both sides (classification only)."""
    counts = labels.value_counts()
    if len(counts) == 1:
        only = shown(counts.index[0])
        return [Violation(target, "classes", 1, f"only one class ({only}): nothing to learn")]
    return [
        Violation(
            target,
            "class_size",
            int(count),
            f"class {shown(label)} has {count} row(s); the split needs at least {MIN_CLASS_ROWS}",
        )
        for label, count in counts.items()
        if count < MIN_CLASS_ROWS
    ]


def validate(
    frame: pd.DataFrame,
    schema: Schema,
    *,
    target: str | None = None,
    task: str | None = None,
    high_cardinality: int | None = None,
) -> ValidationReport:
    """Every violation of ``schema`` in ``frame``, with column, rule, count and CSV lines.

    With ``target``: rows without one are counted (and are a violation if the schema says
    missing_target: fail); with ``task`` classification too, every class must be big enough to
    split. ``high_cardinality``: warn about category columns with more distinct values.
    """
    report = ValidationReport(rows=len(frame), columns=frame.shape[1])
    report.violations = check_schema(frame, schema, target)
    for name, rule in schema.columns.items():
        if (
            high_cardinality
            and name in frame.columns
            and rule.dtype == "str"
            and rule.role == "feature"
            and name != target
            and (distinct := frame[name].nunique()) > high_cardinality
        ):
            report.warnings.append(
                f"{name}: {distinct} distinct values (high cardinality): the encoder keeps the "
                "most frequent (model.preprocessing.max_categories / min_frequency)"
            )
    if target is not None and target in frame.columns:
        labels = frame[target]
        missing = int(labels.isna().sum())
        if missing and schema.missing_target == "drop":
            report.missing_target = missing
            report.warnings.append(f"{target}: dropped {missing} row(s) without a target value")
        if task == "classification" and labels.notna().any():
            report.violations += _labels(labels.dropna(), target)
    return report
