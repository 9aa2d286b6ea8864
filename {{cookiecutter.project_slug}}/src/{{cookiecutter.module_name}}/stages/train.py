"""`train`: fit the configured pipeline, score it and the baseline, track it in one MLflow run."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from .. import cluster, figures, lineage, reports, tracking
from ..config import Settings
from ..console import verbosity, warning
from ..core import contract, drift
from ..core.split import rare_classes, training_parts
from ..provenance import config_sha256, current_commit
from ..schema import Schema
from ..timings import importing, timed
from .validate import validate

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd


def main(args: argparse.Namespace, settings: Settings, schema: Schema) -> str:
    return summary(settings, train(settings, schema))


def train(settings: Settings, schema: Schema, frame: pd.DataFrame | None = None) -> dict[str, Any]:
    """Fit, score, profile and log the model; write reports/metrics.json; return its record.

    ``frame``: the validated training rows (`pipeline` passes them on), else read here.
    """
    from ..core.metrics import add_relative, baseline, outputs, score_outputs
    from ..core.model import build_pipeline, fit, preload

    with importing():
        preload(settings.model)
    owned = frame is None  # read here: nothing else needs the frame after the split
    if frame is None:
        frame = validate(settings, schema)
    reports.clear_outputs(settings, "train")
    target, seed, task = settings.data.target, settings.data.seed, settings.task
    tags = current_commit().tags() | {"config_sha256": config_sha256(settings, schema)}
    tags |= lineage.lineage(settings.data.path)
    dataset = tracking.training_dataset(settings, frame, digest=tags["data_sha256"][:32])
    rows = len(frame)
    if task == "classification":
        for line in rare_classes(frame[target], settings.data.rare_class_share):
            warning("Rare class", line)
    # When train read the data itself, its columns move into `parts` one by one: the rows never
    # exist twice, neither while splitting nor during the fit.
    parts, groups = training_parts(settings, frame, schema, consume=owned)
    del frame
    search = settings.model.search
    search = search if search is not None and search.enabled else None
    jobs = search.n_jobs if search is not None else None
    with timed("fit"), cluster.joblib_jobs(settings.dask, jobs) as n_jobs:
        pipeline = build_pipeline(settings.model, schema, target, seed, task)
        found = fit(pipeline, settings, parts, groups, search, verbosity(3), n_jobs)
        pipeline = found.model if found else pipeline
    with timed("scoring"):
        answers = outputs(task, pipeline, parts.x_test)  # the metrics' and the figures'
        metrics = score_outputs(task, answers, parts.y_test)
        trivial = baseline(task, parts.x_train, parts.y_train, parts.x_test, parts.y_test)
        add_relative(task, metrics, trivial)
    with timed("reference_profile"):
        reference = _reference(settings, schema, pipeline, parts)
    if reason := lineage.unversioned(tags):
        warning("Unversioned data", reason)
    params = {"estimator": settings.model.estimator, **settings.model.params}
    children = []
    if found is not None and search is not None:
        from ..core.search import child_runs, logged_params

        params = logged_params(settings.model, search, found)
        children = child_runs(found)
        metrics |= found.metrics()
    params |= {f"data.{key}": value for key, value in settings.data.model_dump().items()}
    out, drawn = settings.reports_dir / "figures", []

    def draw() -> list[Path]:
        # The importance the monitoring reference holds: measured once, plotted here.
        importance = reference["importance"]
        drawn.extend(figures.write_figures(task, parts.y_test, answers, importance, out))
        return drawn

    with importing():
        tracking.preload(settings)
    run = tracking.log_training_run(
        settings,
        model=pipeline,
        dataset=dataset,
        x_example=parts.x_train,
        params=params,
        metrics=metrics | {f"baseline_{key}": value for key, value in trivial.items()},
        tags=tags,
        figures=draw,
        metadata={"contract": contract.build(schema, target, parts.x_train)},
        documents={tracking.REFERENCE_PATH: reference},
        children=children,
    )
    record = {
        **asdict(run),
        **tags,
        "metrics": metrics,
        "baseline_metrics": trivial,
        "rows": rows,
        "train_rows": len(parts.x_train),
        "test_rows": len(parts.x_test),
        "figures": [f"figures/{path.name}" for path in drawn],  # as the run's artifacts
    }
    reports.write_json(settings.reports_dir / "metrics.json", record)
    return record


def _reference(settings: Settings, schema: Schema, pipeline: Any, parts: Any) -> dict[str, Any]:
    """The monitoring reference profile: a sample of each feature, the model's predictions on
    it, and the permutation importance of each feature on the test split."""
    target, seed = settings.data.target, settings.data.seed
    dtypes = {name: rule.dtype for name, rule in schema.features(target).items()}
    reference = drift.profile(
        dtypes,
        parts.x_train,
        pipeline.predict,
        settings.task,
        settings.monitoring.reference_rows,
        seed,
        target=parts.y_train,
    )
    reference["importance"] = drift.importance(
        pipeline, parts.x_test, parts.y_test, settings.task, seed
    )
    return reference


def summary(settings: Settings, record: dict[str, Any]) -> str:
    """The run and the metrics the gate looks at (all of them are in reports/metrics.json)."""
    names = dict.fromkeys(criterion.metric for criterion in settings.gate.criteria)
    shown = ", ".join(f"{n} {record['metrics'][n]:.4g}" for n in names if n in record["metrics"])
    return f"trained run {record['run_id']}: {shown} -> {settings.reports_dir / 'metrics.json'}"
