"""`predict` and `example-input`: score a CSV with a registered model, or write what it takes."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import data, registry, reports
from ..config import Settings
from ..console import warning
from ..core import contract
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
    return f"wrote {len(result.frame)} predictions to {args.output}{warned}"


def predict(settings: Settings, source: Path, target: Path, alias: str) -> Prediction:
    """Score a CSV with ``models:/<name>@<alias>``: id columns, prediction, class probabilities."""
    writable(target, "--output")
    model, contract_, _ = load_for_prediction(settings, alias)
    frame = read_input(settings, source, contract_)
    try:
        result = predict_frame(model, contract_, frame)
    except DataError as error:
        raise DataError(f"{source}: {error}") from None
    for line in result.warnings:
        warning("Unseen values", line)
    try:
        with atomic(target) as partial:
            result.frame.to_csv(partial, index=False)
    except OSError as error:
        raise UsageError(f"--output {target}: cannot write ({error.strerror or error})") from None
    return result


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
    checked = contract.check(contract_, frame)
    try:
        out = pd.DataFrame({"prediction": model.predict(checked.features)}, index=frame.index)
        if hasattr(model, "predict_proba"):
            probabilities = model.predict_proba(checked.features).T
            for label, column in zip(model.classes_, probabilities, strict=True):
                out[f"proba_{label}"] = column
    except (ValueError, TypeError) as error:
        message = str(error).splitlines()[0]
        raise DataError(f"input does not match the model ({message})") from None
    return Prediction(pd.concat([checked.ids, out], axis=1), checked.warnings)


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
