"""Check a DataFrame against the declared schema; list every violation, fail closed."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .config import NUMERIC, TEMPORAL, ColumnRule, Schema
from .errors import DataError
from .parsing import BOOL_VALUES, parse_dates

TABLE = "(table)"
# A stratified split puts each class on both sides: a class needs at least this many rows.
MIN_CLASS_ROWS = 2
DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d+$")


@dataclass(frozen=True)
class Violation:
    column: str
    rule: str
    count: int
    detail: str


@dataclass
class ValidationReport:
    rows: int
    columns: int
    violations: list[Violation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Rows dropped because the target is missing (schema missing_target: drop).
    missing_target: int = 0

    @property
    def passed(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        if self.passed:
            dropped = f", {self.missing_target} without a target dropped" * bool(
                self.missing_target
            )
            return f"data valid: {self.rows} rows, {self.columns} columns{dropped}"
        parts = [f"{v.column} {v.rule} ({v.count}: {v.detail})" for v in self.violations]
        return f"data invalid: {len(self.violations)} violation(s): " + "; ".join(parts)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        body = {"passed": self.passed, "rows": self.rows, "columns": self.columns}
        body["missing_target_dropped"] = self.missing_target
        body["violations"] = [asdict(v) for v in self.violations]
        body["warnings"] = self.warnings
        path.write_text(json.dumps(body, indent=2) + "\n")


def _example(values: pd.Series, wrong: pd.Series) -> str:
    return repr(values[wrong].iloc[0]) if wrong.any() else ""


def numbers_of(values: pd.Series) -> pd.Series:
    """The values as numbers; NaN where a value is missing or not a number."""
    return pd.to_numeric(values, errors="coerce")


def wrong_type(
    values: pd.Series, rule: ColumnRule, parsed: pd.Series | None = None
) -> tuple[pd.Series, str]:
    """Present values that are not of the declared dtype, and the detail to report them with.

    Shared with the predict-time checks, so training data and prediction inputs obey one rule.
    ``parsed``: ``numbers_of(values)`` if the caller already has it (int and float columns).
    """
    present = values.notna()
    if rule.dtype in NUMERIC:
        numbers = numbers_of(values) if parsed is None else parsed
        wrong = present & ~np.isfinite(numbers.to_numpy(dtype=float, na_value=np.nan))
        if rule.dtype == "int":
            wrong |= present & numbers.notna() & (numbers % 1 != 0)
        example = _example(values, wrong)
        hint = (
            ": a decimal comma? set data.csv.decimal" if DECIMAL_COMMA.match(example[1:-1]) else ""
        )
        return wrong, f"values that are not finite {rule.dtype} numbers (e.g. {example}{hint})"
    if rule.dtype == "bool":
        wrong = present & ~values.isin(list(BOOL_VALUES))
        return (
            wrong,
            f"values that are not true/false, yes/no or 1/0 (e.g. {_example(values, wrong)})",
        )
    if rule.dtype in TEMPORAL:
        wrong = present & parse_dates(values, rule.format).isna()
        shape = rule.format or "ISO 8601"
        return wrong, f"values that are not {shape} dates (e.g. {_example(values, wrong)})"
    if rule.dtype == "str":
        # Text that is only spaces is a missing value in disguise.
        wrong = present & values.astype(str).str.strip().eq("")
        return wrong, "blank values (only spaces)"
    return present & False, ""


def _check_column(name: str, values: pd.Series, rule: ColumnRule) -> list[Violation]:
    found: list[Violation] = []
    present = values.notna()
    if not rule.nullable and (nulls := int((~present).sum())):
        found.append(Violation(name, "nullable", nulls, "missing values in a non-nullable column"))
    parsed = numbers_of(values) if rule.dtype in NUMERIC else None
    wrong, detail = wrong_type(values, rule, parsed)
    if count := int(wrong.sum()):
        found.append(Violation(name, "dtype", count, detail))
    if parsed is not None:
        if rule.min is not None and (count := int((parsed < rule.min).sum())):
            found.append(Violation(name, "min", count, f"values below {rule.min}"))
        if rule.max is not None and (count := int((parsed > rule.max).sum())):
            found.append(Violation(name, "max", count, f"values above {rule.max}"))
    allowed = rule.allowed
    if allowed is not None and values.dtype == np.float32:  # precision single: as the column holds
        allowed = [np.float32(a) if isinstance(a, (int, float)) else a for a in allowed]
    if allowed is not None and (count := int((present & ~values.isin(allowed)).sum())):
        shown = ", ".join(map(str, rule.allowed))
        found.append(Violation(name, "allowed", count, f"values outside [{shown}]"))
    return found


def duplicate_rows(frame: pd.DataFrame) -> int:
    """Rows that repeat an earlier row exactly."""
    # One 64-bit hash per row: linear time and O(rows) memory, unlike factorizing every column.
    return int(pd.util.hash_pandas_object(frame, index=False).duplicated().sum())


def _labels(labels: pd.Series, target: str) -> list[Violation]:
    """Classes a stratified split cannot put on both sides (classification only)."""
    counts = labels.value_counts()
    if len(counts) == 1:
        return [
            Violation(
                target, "classes", 1, f"only one class ({counts.index[0]!r}): nothing to learn"
            )
        ]
    return [
        Violation(
            target,
            "class_size",
            int(count),
            f"class {label!r} has {count} row(s); the split needs at least {MIN_CLASS_ROWS}",
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
    """Every violation of ``schema`` in ``frame``, with column, rule and count.

    With ``target``: rows without one are counted (and are a violation if the schema says
    missing_target: fail); with ``task`` classification too, every class must be big enough to
    split. ``high_cardinality``: warn about category columns with more distinct values.
    """
    report = ValidationReport(rows=len(frame), columns=frame.shape[1])
    add = report.violations.extend
    if len(frame) < schema.min_rows:
        add([Violation(TABLE, "min_rows", len(frame), f"fewer than {schema.min_rows} rows")])
    for name, rule in schema.columns.items():
        if name not in frame.columns:
            add([Violation(name, "present", 1, "column missing from the data")])
            continue
        if name == target:
            rule = rule.model_copy(update={"nullable": True})  # missing labels: see below
        add(_check_column(name, frame[name], rule))
        if (
            high_cardinality
            and rule.dtype == "str"
            and rule.role == "feature"
            and name != target
            and (distinct := frame[name].nunique()) > high_cardinality
        ):
            report.warnings.append(
                f"{name}: {distinct} distinct values (high cardinality): the encoder keeps the "
                "most frequent (model.preprocessing.max_categories / min_frequency)"
            )
    for name in frame.columns.difference(list(schema.columns)):
        add([Violation(str(name), "declared", 1, "column not declared in the schema")])
    duplicates = duplicate_rows(frame)
    if duplicates > schema.max_duplicate_rows:
        detail = f"more than {schema.max_duplicate_rows} duplicated rows"
        add([Violation(TABLE, "duplicate_rows", duplicates, detail)])
    if target is not None and target in frame.columns:
        labels = frame[target]
        if missing := int(labels.isna().sum()):
            if schema.missing_target == "fail":
                add([Violation(target, "missing_target", missing, "rows without a target value")])
            else:
                report.missing_target = missing
                report.warnings.append(f"{target}: dropped {missing} row(s) without a target value")
        if task == "classification" and labels.notna().any():
            add(_labels(labels.dropna(), target))
    return report


def validate_or_raise(
    frame: pd.DataFrame, schema: Schema, report_path: Path, **context
) -> ValidationReport:
    """Validate, write the JSON report, and raise DataError (one line) if anything is wrong."""
    report = validate(frame, schema, **context)
    report.write(report_path)
    if not report.passed:
        raise DataError(report.summary())
    return report
