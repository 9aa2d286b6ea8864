"""`validate`: read the training data in its dialect and check it against the schema.

Only pandas, pandera and this package's own modules: `make validate` imports neither
scikit-learn nor MLflow, so checking a large table costs the table, not the libraries.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .. import data, reports
from ..config import Settings
from ..console import progress, warning
from ..errors import DataError
from ..schema import Schema
from ..timings import timed

if TYPE_CHECKING:
    import pandas as pd

    from ..core.violations import ValidationReport


def main(args: argparse.Namespace, settings: Settings, schema: Schema) -> str:
    frame = validate(settings, schema)
    return f"data valid: {len(frame)} rows -> {settings.reports_dir / 'validation.json'}"


def validate(settings: Settings, schema: Schema) -> pd.DataFrame:
    """Check the training data against the schema; raise DataError listing every violation.

    Returns the rows to train on: those with a target value.
    """
    reports.clear_outputs(settings, "validate")
    with timed("validation"):
        data.ensure(settings.task, settings.data.path)
        frame = read_training_data(settings, schema)
        report = check_training_data(settings, frame, schema)
        for line in report.warnings:
            warning("Data", line)
    return labelled(settings, frame)


def read_training_data(settings: Settings, schema: Schema) -> pd.DataFrame:
    """The training data in the configured dialect (no checks; see ``validate``)."""
    dtypes = {name: rule.dtype for name, rule in schema.columns.items()}
    return data.read_csv(
        settings.data.path, settings.data.csv, dtypes, single=schema.single_precision()
    )


def labelled(settings: Settings, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with a target value (the schema's missing_target: drop counts the others)."""
    labels = frame[settings.data.target]
    return frame if labels.notna().all() else frame[labels.notna()]


def check_training_data(
    settings: Settings, frame: pd.DataFrame, schema: Schema
) -> ValidationReport:
    """Validate ``frame`` as training data; write reports/validation.json; raise DataError."""
    # Imported here, by the stages that validate: predict and the API never load pandera.
    from ..core.validation import validate as check

    with progress("validating against the schema", "rows", total=len(frame)) as advance:
        report = check(
            frame,
            schema,
            target=settings.data.target,
            task=settings.task,
            high_cardinality=settings.model.preprocessing.high_cardinality,
        )
        advance(len(frame))
    reports.write_json(settings.reports_dir / "validation.json", report.as_dict())
    if not report.passed:
        raise DataError(report.summary())
    return report
