"""The validate stage: read the training data in its dialect and check it against the schema.

Only pandas, pandera and this package's own modules: `make validate` imports neither
scikit-learn nor MLflow, so checking a large table costs the table, not the libraries (see
jobs.py for the rest).
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

from .. import data
from ..config import Schema, Settings, load_schema
from ..console import warning
from ..timings import timed

if TYPE_CHECKING:
    import pandas as pd

# What each stage writes, in pipeline order: a stage deletes its own outputs and those of the
# stages after it before it starts, so no file from an earlier run is ever read as current.
STAGE_OUTPUTS = {
    "validate": ("validation.json",),
    "train": ("metrics.json", "figures"),
    "gate": ("gate.json", "report.md"),
}


def clear_outputs(settings: Settings, stage: str) -> None:
    stages = list(STAGE_OUTPUTS)
    for later in stages[stages.index(stage) :]:
        for name in STAGE_OUTPUTS[later]:
            path = settings.reports_dir / name
            if not path.is_dir():
                path.unlink(missing_ok=True)
                continue
            for child in path.iterdir():  # the committed .gitkeep stays: the tree stays clean
                if child.is_dir():
                    shutil.rmtree(child)
                elif child.name != ".gitkeep":
                    child.unlink()


def _dtypes(schema: Schema) -> dict[str, str]:
    return {name: rule.dtype for name, rule in schema.columns.items()}


def read_training_data(settings: Settings, schema: Schema) -> pd.DataFrame:
    """The training data in the configured dialect (no checks; see ``validate``)."""
    return data.read_csv(
        settings.data.path, settings.data.csv, _dtypes(schema), single=schema.single_precision()
    )


def labelled(settings: Settings, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with a target value (the schema's missing_target: drop counts the others)."""
    labels = frame[settings.data.target]
    return frame if labels.notna().all() else frame[labels.notna()]


def validate(settings: Settings) -> pd.DataFrame:
    """Check the training data against the schema; raise DataError listing every violation.

    Returns the rows to train on: those with a target value.
    """
    clear_outputs(settings, "validate")
    with timed("validation"):
        data.ensure(settings.task, settings.data.path)
        schema = load_schema(settings.data.schema_file)
        frame = read_training_data(settings, schema)
        report = check_training_data(settings, frame, schema)
        for line in report.warnings:
            warning("Data", line)
    return labelled(settings, frame)


def check_training_data(settings: Settings, frame: pd.DataFrame, schema: Schema) -> Any:
    """Validate ``frame`` as training data; write reports/validation.json; raise DataError."""
    # Imported here, by the stages that validate: predict and the API (which import this module
    # through jobs.py) do not load pandera (half a second).
    from ..validation import validate_or_raise

    return validate_or_raise(
        frame,
        schema,
        settings.reports_dir / "validation.json",
        target=settings.data.target,
        task=settings.task,
        high_cardinality=settings.model.preprocessing.high_cardinality,
    )
