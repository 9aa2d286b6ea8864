"""`tune`: cross-validate the candidates of model.search; log them; register nothing."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from .. import cluster, lineage, reports, tracking
from ..config import Settings
from ..console import verbosity
from ..core.split import training_parts
from ..errors import ConfigError
from ..provenance import current_commit
from ..schema import Schema
from ..timings import importing, timed
from .validate import validate


def main(args: argparse.Namespace, settings: Settings, schema: Schema) -> str:
    from ..core.search import describe

    return describe(tune(settings, schema))


def tune(settings: Settings, schema: Schema) -> Any:
    """Run model.search on the training split, log it (a run with a child per candidate, no
    model), write reports/search.json. Returns the SearchResult."""
    from ..core.model import build_pipeline, fit, preload
    from ..core.search import child_runs, logged_params

    search = settings.model.search
    if search is None:
        raise ConfigError("model.search: not set: add a search block to config/pipeline.yaml")
    with importing():
        preload(settings.model)
    frame = validate(settings, schema)
    parts, groups = training_parts(settings, frame, schema)
    with timed("search"), cluster.joblib_jobs(settings.dask, search.n_jobs) as n_jobs:
        target, seed = settings.data.target, settings.data.seed
        pipeline = build_pipeline(settings.model, schema, target, seed, settings.task)
        found = fit(pipeline, settings, parts, groups, search, verbosity(3), n_jobs)
    path = settings.reports_dir / "search.json"
    reports.write_json(
        path,
        {
            "metric": found.metric,
            "folds": found.folds,
            "best": asdict(found.best),
            "candidates": [asdict(candidate) for candidate in found.candidates],
        },
    )
    tracking.log_run(
        settings,
        name="tune",
        params=logged_params(settings.model, search, found),
        metrics=found.metrics(),
        tags={"kind": "tune", **current_commit().tags(), **lineage.lineage(settings.data.path)},
        files=[path],
        children=child_runs(found),
    )
    return found
