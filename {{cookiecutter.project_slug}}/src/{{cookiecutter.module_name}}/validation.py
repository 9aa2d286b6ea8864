"""Check a DataFrame against the declared schema; list every violation, fail closed."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from .config import ColumnRule, Schema
from .errors import DataError

TABLE = "(table)"


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

    @property
    def passed(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        if self.passed:
            return f"data valid: {self.rows} rows, {self.columns} columns"
        parts = [f"{v.column} {v.rule} ({v.count})" for v in self.violations]
        return f"data invalid: {len(self.violations)} violation(s): " + "; ".join(parts)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        body = {"passed": self.passed, "rows": self.rows, "columns": self.columns}
        body["violations"] = [asdict(v) for v in self.violations]
        path.write_text(json.dumps(body, indent=2) + "\n")


def _check_column(name: str, values: pd.Series, rule: ColumnRule) -> list[Violation]:
    found: list[Violation] = []
    present = values.notna()
    if not rule.nullable and (nulls := int((~present).sum())):
        found.append(Violation(name, "nullable", nulls, "missing values in a non-nullable column"))
    if rule.dtype in ("int", "float"):
        numbers = pd.to_numeric(values, errors="coerce")
        wrong = present & numbers.isna()
        if rule.dtype == "int":
            wrong |= present & numbers.notna() & (numbers % 1 != 0)
        if count := int(wrong.sum()):
            found.append(Violation(name, "dtype", count, f"values that are not {rule.dtype}"))
        if rule.min is not None and (count := int((numbers < rule.min).sum())):
            found.append(Violation(name, "min", count, f"values below {rule.min}"))
        if rule.max is not None and (count := int((numbers > rule.max).sum())):
            found.append(Violation(name, "max", count, f"values above {rule.max}"))
    if rule.allowed is not None and (count := int((present & ~values.isin(rule.allowed)).sum())):
        shown = ", ".join(map(str, rule.allowed))
        found.append(Violation(name, "allowed", count, f"values outside [{shown}]"))
    return found


def duplicate_rows(frame: pd.DataFrame) -> int:
    """Rows that repeat an earlier row exactly."""
    # One 64-bit hash per row: linear time and O(rows) memory, unlike factorizing every column.
    return int(pd.util.hash_pandas_object(frame, index=False).duplicated().sum())


def validate(frame: pd.DataFrame, schema: Schema) -> ValidationReport:
    """Every violation of ``schema`` in ``frame``, with column, rule and count."""
    report = ValidationReport(rows=len(frame), columns=frame.shape[1])
    add = report.violations.extend
    if len(frame) < schema.min_rows:
        add([Violation(TABLE, "min_rows", len(frame), f"fewer than {schema.min_rows} rows")])
    for name, rule in schema.columns.items():
        if name not in frame.columns:
            add([Violation(name, "present", 1, "column missing from the data")])
        else:
            add(_check_column(name, frame[name], rule))
    for name in frame.columns.difference(list(schema.columns)):
        add([Violation(str(name), "declared", 1, "column not declared in the schema")])
    duplicates = duplicate_rows(frame)
    if duplicates > schema.max_duplicate_rows:
        detail = f"more than {schema.max_duplicate_rows} duplicated rows"
        add([Violation(TABLE, "duplicate_rows", duplicates, detail)])
    return report


def validate_or_raise(frame: pd.DataFrame, schema: Schema, report_path: Path) -> ValidationReport:
    """Validate, write the JSON report, and raise DataError (one line) if anything is wrong."""
    report = validate(frame, schema)
    report.write(report_path)
    if not report.passed:
        raise DataError(report.summary())
    return report
