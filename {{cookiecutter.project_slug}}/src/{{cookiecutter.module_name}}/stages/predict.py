"""`predict` and `example-input`: score a CSV with a registered model, or write what it takes."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import batch, data, registry, reports
from ..config import Settings
from ..console import warning
from ..errors import DataError, UsageError
from ..files import atomic
from ..schema import Schema


@dataclass
class Prediction:
    frame: pd.DataFrame  # id columns, prediction, proba_<class>
    warnings: list[str] = field(default_factory=list)


def main(args: argparse.Namespace, settings: Settings, schema: Schema) -> str:
    alias = args.alias or settings.registry.production_alias
    result = predict(settings, args.input, args.output, alias)
    warned = f" ({len(result.warnings)} warning(s) above)" if result.warnings else ""
    return f"wrote {result.rows} predictions to {args.output}{warned}"


def predict(settings: Settings, source: Path, target: Path, alias: str) -> batch.Written:
    """Score a CSV with ``models:/<name>@<alias>``: id columns, prediction, class probabilities;
    in chunks, here or on the Dask cluster (batch.py). Returns the rows written and warnings."""
    writable(target, "--output")
    model, contract_, _ = load_for_prediction(settings, alias)
    written = batch.predict_csv(settings, source, target, model, contract_)
    for line in written.warnings:
        warning("Unseen values", line)
    return written


def load_for_prediction(settings: Settings, alias: str) -> tuple[Any, dict[str, Any], Any]:
    """The model behind ``alias``, its predict-time contract and its registry version."""
    model_version = registry.resolve(settings, alias, None)
    model, contract_ = registry.load_version(settings, model_version)
    return model, contract_, model_version


def read_input(
    settings: Settings, source: Path, contract_: dict[str, Any], extra: dict[str, str] | None = None
) -> pd.DataFrame:
    """A CSV to score, read with the types the model's contract (and ``extra``) declares."""
    dtypes = {name: entry["dtype"] for name, entry in contract_["features"].items()}
    dtypes |= dict.fromkeys(contract_["ids"], "str")  # an id such as 007 stays 007
    return data.read_csv(source, settings.data.csv, dtypes | (extra or {}), setting="--input")


def predict_frame(model: Any, contract_: dict[str, Any], frame: pd.DataFrame) -> Prediction:
    """Id columns, predictions (and class probabilities) for ``frame``, with the contract's
    warnings; DataError naming the column if ``frame`` breaks the contract."""
    scored = batch.score(model, contract_, frame)
    if scored.frame is None:
        raise scored.tally.error(contract_) or DataError("input does not match the model")
    return Prediction(scored.frame, scored.tally.warnings(contract_))


def writable(target: Path, option: str) -> None:
    """UsageError naming ``option`` unless a file can be written at ``target``."""
    if target.is_dir():
        raise UsageError(f"{option} {target} is a folder: name a file, e.g. {target}/out.csv")
    folder = target.parent if str(target.parent) else Path(".")
    if folder.exists() and not (folder.is_dir() and os.access(folder, os.W_OK)):
        raise UsageError(f"{option} {target}: {folder} is not a folder this user can write")


def example_main(args: argparse.Namespace, settings: Settings, schema: Schema) -> str:
    frame = example_input(settings, args.output, args.alias)
    shown = ", ".join(map(str, frame.columns[:8])) + (", ..." if len(frame.columns) > 8 else "")
    return (
        f"wrote {args.output} and {args.output.with_suffix('.json')} (a /predict body): "
        f"{len(frame)} rows of the {len(frame.columns)} columns a request needs ({shown})"
    )


def example_input(settings: Settings, output: Path, alias: str | None) -> pd.DataFrame:
    """The input example of the version behind ``alias`` (default: production) as a CSV
    ``make predict`` takes, and as the JSON body of a ``/predict`` request (same name, .json)."""
    alias = alias or settings.registry.production_alias
    registry.resolve(settings, alias, None)
    frame = registry.input_example(f"models:/{settings.registry.model_name}@{alias}")
    with atomic(output) as partial:
        frame.to_csv(partial, index=False)
    body = {"rows": json.loads(frame.to_json(orient="records", date_format="iso"))}
    reports.write_json(output.with_suffix(".json"), body)
    return frame
