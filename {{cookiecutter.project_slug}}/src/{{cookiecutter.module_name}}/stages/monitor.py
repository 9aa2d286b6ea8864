"""`monitor`: drift of a new batch against the training data of the model behind an alias.

Reads only the registry: the model, its predict-time contract and the reference profile logged
with its training run. Writes reports/drift.json (for a workflow), drift.html and drift.md (for a
person), logs them as a run, and exits 6 when the thresholds in config/pipeline.yaml are passed.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from .. import drift_report, lineage, reports, tracking
from ..config import Settings
from ..console import progress
from ..core import contract, drift
from ..errors import DataError, DriftDetected
from ..schema import Schema
from ..timings import timed
from .predict import load_for_prediction, read_input


def main(args: argparse.Namespace, settings: Settings, schema: Schema) -> str:
    report = monitor(settings, args.input, args.alias)
    return (
        f"no drift: {len(report['drifted_columns'])} of {len(report['columns'])} columns "
        f"drifted -> {settings.reports_dir / 'drift.html'}"
    )


def monitor(settings: Settings, source: Path, alias: str | None = None) -> dict[str, Any]:
    """Compare ``source`` with the reference profile of the model behind ``alias``; write
    reports/drift.json and drift.html; log both; raise DriftDetected past the thresholds."""
    model, contract_, version, frame = scored_input(settings, source, alias)
    reference = tracking.load_reference(version.run_id)
    with timed("monitor"):
        checked = check_contract(contract_, frame, source)
        predictions = predicted(model, checked.features, source)
        columns = len(reference["columns"])
        with progress("testing for drift", "columns", total=columns) as advance:
            report = drift.compare(
                reference, checked.features, predictions, settings.monitoring, tested=advance
            )
    report = {
        **version_link(version),
        "alias": alias or settings.registry.production_alias,
        "input": str(source),
        "input_sha256": lineage.sha256(source),
        **report,
    }
    out = settings.reports_dir
    paths = [out / "drift.json", out / "drift.html", out / "drift.md"]
    with timed("monitor_report"):
        reports.write_json(paths[0], report)
        page = drift_report.drift_html(report, reference, checked.features, predictions)
        reports.write_text(paths[1], page)
        reports.write_text(paths[2], drift_report.drift_markdown(report))
    metrics = {
        "drift": float(report["drift"]),
        "drift_share": report["drift_share"],
        "drifted_columns": float(len(report["drifted_columns"])),
        "rows": float(report["rows"]),
        "prediction_drift": float(report["prediction"]["drifted"]),
    }
    params = {"input": str(source), **settings.monitoring.model_dump()}
    link = version_link(version)
    tracking.log_run(
        settings,
        name=f"monitor-v{version.version}",
        params=params,
        metrics=metrics,
        tags={"kind": "monitoring", **link, "input_sha256": report["input_sha256"]},
        files=paths,
    )
    if report["drift"]:
        raise DriftDetected(f"drift: {'; '.join(report['reasons'])} (see {paths[1]})")
    return report


def scored_input(
    settings: Settings, source: Path, alias: str | None, target_dtype: str | None = None
) -> tuple[Any, dict[str, Any], Any, pd.DataFrame]:
    """The model behind ``alias``, its contract and version, and ``source`` read with the
    contract's types (and the target column's, ``target_dtype``, when it holds labels)."""
    alias = alias or settings.registry.production_alias
    model, contract_, version = load_for_prediction(settings, alias)
    extra = {settings.data.target: target_dtype} if target_dtype else {}
    frame = read_input(settings, source, contract_, extra)
    return model, contract_, version, frame


def check_contract(
    contract_: dict[str, Any], frame: pd.DataFrame, source: Path
) -> contract.Checked:
    try:
        return contract.check(contract_, frame)
    except DataError as error:
        raise DataError(f"{source}: {error}") from None


def predicted(model: Any, features: pd.DataFrame, source: Path) -> Any:
    try:
        return model.predict(features)
    except (ValueError, TypeError) as error:
        message = str(error).splitlines()[0]
        raise DataError(f"{source}: input does not match the model ({message})") from None


def version_link(version: Any) -> dict[str, str]:
    return {
        "model_name": version.name,
        "model_version": str(version.version),
        "model_run_id": version.run_id,
    }
