"""`evaluate`: score the production model on newly labelled data, against the gate.

Compares with the gate's thresholds and with the model's own scores at training; writes
reports/evaluation.json and .md, logs them as a run, and exits 7 when a criterion fails.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from .. import drift_report, lineage, reports, tracking
from ..config import Settings
from ..console import warning
from ..core import drift, gate
from ..core.parsing import SHOWN_VALUES, listed, shown
from ..errors import DataError, PerformanceDecay
from ..schema import Schema
from .monitor import check_contract, scored_input, version_link


def main(args: argparse.Namespace, settings: Settings, schema: Schema) -> str:
    body = evaluate(settings, schema, args.input, args.alias)
    shown_ = ", ".join(f"{check['metric']} {check['candidate']:.4f}" for check in body["checks"])
    return f"meets the gate on {body['rows']} rows: {shown_}"


def evaluate(
    settings: Settings, schema: Schema, source: Path, alias: str | None = None
) -> dict[str, Any]:
    """Score the model behind ``alias`` on labelled ``source``; compare with the gate's thresholds
    and with the model's own scores at training; write reports/evaluation.json and .md; log
    them; raise PerformanceDecay when a criterion fails."""
    from ..core.metrics import add_relative, score

    model, contract_, version, frame = scored_input(
        settings, source, alias, target_dtype=schema.columns[settings.data.target].dtype
    )
    target = settings.data.target
    if target not in frame.columns:
        raise DataError(f"{source}: no column {target!r} (data.target): evaluation needs labels")
    labelled = frame[frame[target].notna()]
    if labelled.empty:
        raise DataError(f"{source}: no row has a value in {target!r}")
    if settings.task == "classification":
        _refuse_unseen_labels(list(model.classes_), labelled[target], source)
    # The target is no input of the model: checked (and warned about) as the features are not.
    checked = check_contract(contract_, labelled.drop(columns=[target]), source)
    for line in checked.warnings:
        warning("Unseen values", line)
    _, trained, _ = tracking.run_details(settings, version.run_id)
    reference = tracking.load_reference(version.run_id)
    baseline_model = drift.baseline_model(reference, settings.task)
    labels = labelled[target]
    try:
        metrics = score(settings.task, model, checked.features, labels)
        baseline = score(settings.task, baseline_model, checked.features, labels)
    except (ValueError, TypeError) as error:
        message = str(error).splitlines()[0]
        raise DataError(f"{source}: cannot score these labels ({message})") from None
    add_relative(settings.task, metrics, baseline)
    # The gate's criteria on the new data: thresholds and skill over the training-time baseline
    # (class priors / mean); cross-validation metrics and "no regression" need a training run.
    criteria = [c for c in settings.gate.criteria if not c.metric.startswith("cv_")]
    rules = settings.gate.model_copy(update={"criteria": criteria})
    result = gate.decide(rules, settings.task, metrics, baseline, None)
    body = {
        **version_link(version),
        "input": str(source),
        "input_sha256": lineage.sha256(source),
        "rows": len(labelled),
        "unlabelled_rows": len(frame) - len(labelled),
        "passed": result.passed,
        "metrics": metrics,
        "baseline_metrics": baseline,
        "trained_metrics": {key: trained[key] for key in metrics if key in trained},
        "checks": [asdict(check) | {"passed": check.passed} for check in result.checks],
        "problems": result.problems,
    }
    out = settings.reports_dir
    paths = [out / "evaluation.json", out / "evaluation.md"]
    reports.write_json(paths[0], body)
    reports.write_text(paths[1], drift_report.evaluation_markdown(body, result, source, trained))
    tracking.log_run(
        settings,
        name=f"evaluate-v{version.version}",
        params={"input": str(source)},
        metrics={**metrics, "rows": float(len(labelled)), "passed": float(result.passed)},
        tags={
            "kind": "evaluation",
            **version_link(version),
            "input_sha256": str(body["input_sha256"]),
        },
        files=paths,
    )
    if not result.passed:
        failing = [check.metric for check in result.checks if not check.passed]
        raise PerformanceDecay(
            f"version {version.version} below the gate on {source}: "
            f"{', '.join(failing + result.problems)} (see {paths[1]})"
        )
    return body


def _refuse_unseen_labels(classes: list[Any], labels: pd.Series, source: Path) -> None:
    """DataError naming the target column, each label the model was not trained on with its
    row count, and the labels it knows: the model can never predict an unseen label."""
    unseen = labels[~labels.isin(classes)].value_counts()
    if unseen.empty:
        return
    counts = zip(unseen.index, unseen.tolist(), strict=True)
    found = [f"{shown(label)} ({n} row{'s' * (n > 1)})" for label, n in counts]
    more = len(found) - SHOWN_VALUES
    listing = ", ".join(found[:SHOWN_VALUES]) + f" and {more} more" * (more > 0)
    raise DataError(
        f"{source}: column {shown(labels.name)}: label(s) {listing} not seen in training "
        f"(known: {listed(classes)})"
    )
