"""`register`, `promote`, `rollback`, `find`: the gated model into the registry and the aliases
that say which version is staging and which is production."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from .. import lineage, registry, reports, tracking
from ..config import Settings
from ..errors import DataError, GateFailed
from ..provenance import (
    Commit,
    allow_dirty_from_env,
    check_provenance,
    config_sha256,
    current_commit,
)
from ..schema import Schema
from ..timings import timed
from .gate import decide

if TYPE_CHECKING:
    import pandas as pd


def main(args: argparse.Namespace, settings: Settings, schema: Schema) -> str:
    allow_dirty = allow_dirty_from_env() if args.allow_dirty is None else args.allow_dirty
    found = register(settings, schema, args.pr_number, args.pr_head_sha, allow_dirty)
    return registered_line(settings, *found)


def register(
    settings: Settings,
    schema: Schema,
    pr_number: str | None = None,
    pr_head_sha: str | None = None,
    allow_dirty: bool = False,
    frame: pd.DataFrame | None = None,
) -> tuple[Any, bool]:
    """Register the gated run's model with alias staging; never after a failed gate, never when
    the data, the config or the commit differ from what the gate saw, and never (outside CI,
    unless ``allow_dirty``) from a tree no commit describes.

    The decision is taken again here, from the metrics the run logged in MLflow and production
    re-scored now: gate.json says which run was gated, never whether it may be registered."""
    commit = current_commit()
    check_provenance(commit, allow_dirty)
    record = reports.read_json(settings, "train")
    decision = reports.read_json(settings, "gate")
    if not decision["passed"] or decision["run_id"] != record["run_id"]:
        raise GateFailed("the current run has not passed the gate: not registering")
    if decision.get("config_sha256") != record.get("config_sha256"):
        raise GateFailed("the gate judged another config than training used: not registering")
    if reason := _changed_since_gate(settings, schema, record, commit):
        raise GateFailed(f"not registering: {reason}; run the pipeline again")
    logged = _logged_metrics(settings, record["run_id"])
    result, _ = decide(settings, schema, record | logged, frame)
    if not result.passed:
        failing = [check.metric for check in result.checks if not check.passed]
        raise GateFailed(
            f"not registering: run {record['run_id']} fails the gate on its logged metrics "
            f"({', '.join(failing + result.problems)})"
        )
    # A registered model must name a data version that can be pulled again.
    if reason := lineage.unversioned(record):
        raise DataError(f"not registering: {reason}")
    tags = {key: record[key] for key in lineage.LINEAGE_TAGS if key in record}
    tags |= Commit(record.get("git_sha"), record.get("git_dirty") == "true" or commit.dirty).tags()
    tags |= {"config_sha256": record["config_sha256"], "gate": "passed"}
    tags |= {
        f"metric.{c.metric}": f"{record['metrics'][c.metric]:.6g}" for c in settings.gate.criteria
    }
    if pr_number:
        tags["pr_number"] = pr_number
    if pr_head_sha:
        tags["pr_head_sha"] = pr_head_sha
    run = tracking.LoggedRun(record["run_id"], record["model_uri"], record["experiment_id"])
    with timed("registration"):
        return registry.register(settings, run, tags)


def _changed_since_gate(
    settings: Settings, schema: Schema, record: dict[str, Any], commit: Commit
) -> str | None:
    """What differs between the gated run and what would be registered now (None: nothing)."""
    checks = (
        ("data", record["data_sha256"], lineage.sha256(settings.data.path)),
        ("config", record["config_sha256"], config_sha256(settings, schema)),
        ("commit", record.get("git_sha"), commit.sha),
    )
    for what, gated, now in checks:
        if gated != now:
            before, after = (gated or "none")[:12], (now or "none")[:12]
            return f"the {what} changed since the gate ({before} -> {after})"
    return None


def _logged_metrics(settings: Settings, run_id: str) -> dict[str, Any]:
    """The candidate's and the baseline's metrics as train logged them in the run."""
    _, logged, _ = tracking.run_details(settings, run_id)
    metrics = {key: value for key, value in logged.items() if not key.startswith("baseline_")}
    baseline = {
        key.removeprefix("baseline_"): value
        for key, value in logged.items()
        if key.startswith("baseline_")
    }
    return {"metrics": metrics, "baseline_metrics": baseline}


def registered_line(settings: Settings, version: Any, created: bool) -> str:
    verb = "registered" if created else "already registered:"
    return (
        f"{verb} {settings.registry.model_name} version {version.version} "
        f"@{settings.registry.staging_alias} (browse with `make mlflow-ui`)"
    )


@dataclass(frozen=True)
class Promotion:
    version: str
    previous: str | None  # the version production pointed at before (None: no production yet)


def promote_main(args: argparse.Namespace, settings: Settings, schema: Schema) -> str:
    promotion = promote(settings, args.git_sha, args.version)
    before = f"version {promotion.previous}" if promotion.previous else "none"
    return (
        f"{settings.registry.model_name} version {promotion.version} is now "
        f"@{settings.registry.production_alias} (before: {before})"
    )


def promote(settings: Settings, sha: str | None, number: int | None) -> Promotion:
    """Point the production alias at the gated version built from ``sha`` (or version
    ``number``); record the previous one in reports/promotion.json for a rollback."""
    alias = settings.registry.production_alias
    model_version = registry.find_version(settings, git_sha=sha, number=number)
    if model_version.tags.get("gate") != "passed":
        raise GateFailed(f"version {model_version.version} did not pass the gate: not promoting")
    current = registry.version_by_alias(settings, alias)
    promotion = Promotion(str(model_version.version), str(current.version) if current else None)
    registry.set_alias(settings, alias, promotion.version)
    reports.write_json(settings.reports_dir / "promotion.json", asdict(promotion))
    return promotion


def find_main(args: argparse.Namespace, settings: Settings, schema: Schema) -> str:
    """The version registered from a commit, or behind an alias ('none' when it is not set)."""
    if args.alias or args.production:
        alias = args.alias or settings.registry.production_alias
        found = registry.version_by_alias(settings, alias)
        return str(found.version) if found else "none"
    return str(registry.find_version(settings, git_sha=args.git_sha, number=None).version)


def rollback_main(args: argparse.Namespace, settings: Settings, schema: Schema) -> str:
    """Undo a promotion: production back to ``args.to``, or removed when there was none."""
    previous = args.to
    alias = settings.registry.production_alias
    registry.set_alias(settings, alias, None if previous is None else str(previous))
    where = f"version {previous}" if previous is not None else "no version (alias removed)"
    return f"@{alias} is back on {where}"
