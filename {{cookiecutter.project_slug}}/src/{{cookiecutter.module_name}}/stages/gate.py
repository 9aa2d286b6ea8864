"""`gate`: decide on the trained candidate against thresholds, the baseline and production."""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

from .. import lineage, registry, reports, tracking
from ..config import Settings, tracking_uri
from ..core import gate
from ..core.split import checked_split
from ..errors import DataError, GateFailed, UsageError
from ..provenance import commit_label, config_sha256
from ..schema import Schema
from ..timings import timed
from .validate import labelled, read_training_data

if TYPE_CHECKING:
    import pandas as pd


def main(args: argparse.Namespace, settings: Settings, schema: Schema) -> str:
    run_gate(settings, schema)
    return f"gate passed -> {settings.reports_dir / 'report.md'}"


def run_gate(
    settings: Settings,
    schema: Schema,
    record: dict[str, Any] | None = None,
    frame: pd.DataFrame | None = None,
) -> gate.GateResult:
    """Decide on the trained candidate (``record``, else reports/metrics.json); write gate.json
    and report.md; raise GateFailed when it fails."""
    reports.clear_outputs(settings, "gate")
    with timed("gate"):
        record = record or reports.read_json(settings, "train")
        result, label = decide(settings, schema, record, frame)
        run = tracking.LoggedRun(record["run_id"], record["model_uri"], record["experiment_id"])
        reports.write_json(
            settings.reports_dir / "gate.json",
            {
                "passed": result.passed,
                "run_id": run.run_id,
                "config_sha256": record["config_sha256"],
                "production": label,
                "checks": [asdict(check) | {"passed": check.passed} for check in result.checks],
                "problems": result.problems,
            },
        )
        report = gate.report_markdown(
            result,
            title=settings.registry.model_name,
            production_label=label,
            data_lines=_data_lines(settings, record),
            run_line=_run_link(settings, run),
            figure_lines=figure_links(settings, run, record.get("figures", [])),
            figures_note=_figures_note(settings),
        )
        reports.write_text(settings.reports_dir / "report.md", report)
    if not result.passed:
        failing = [check.metric for check in result.checks if not check.passed]
        raise GateFailed(f"gate failed: {', '.join(failing + result.problems)} (see report.md)")
    return result


def decide(
    settings: Settings, schema: Schema, record: dict[str, Any], frame: pd.DataFrame | None
) -> tuple[gate.GateResult, str]:
    """The gate's decision on the candidate ``record`` describes, production re-scored on the
    current test split; and how production is named in the report."""
    if frame is None:
        frame = labelled(settings, read_training_data(settings, schema))
        if lineage.sha256(settings.data.path) != record["data_sha256"]:
            raise DataError("the data changed since training: run `make train` again")
    if config_sha256(settings, schema) != record.get("config_sha256"):
        raise UsageError("the config or schema changed since training: run `make train` again")
    baseline = record.get("baseline_metrics")
    production, label, problems = _production_metrics(settings, schema, frame, baseline)
    result = gate.decide(settings.gate, settings.task, record["metrics"], baseline, production)
    return replace(result, problems=result.problems + problems), label


def _production_metrics(
    settings: Settings, schema: Schema, frame: pd.DataFrame, baseline: dict[str, float] | None
) -> tuple[dict | None, str, list]:
    """Re-score the production model on the current test split (None when there is none);
    relative metrics are relative to the candidate's baseline, fitted on that same split."""
    from ..core.metrics import add_relative, score

    alias = settings.registry.production_alias
    production = registry.version_by_alias(settings, alias)
    if production is None:
        return None, f"none yet (no version has alias `{alias}`)", []
    label = f"version {production.version} (`{alias}`)"
    parts = checked_split(settings, frame, schema)
    model, _ = registry.load_version(settings, production)
    try:
        metrics = score(settings.task, model, parts.x_test, parts.y_test)
        if baseline is not None:
            add_relative(settings.task, metrics, dict(baseline))
        return metrics, label, []
    except (ValueError, KeyError, TypeError) as error:
        return None, label, [f"production model cannot score the current data: {error}"]


def _data_lines(settings: Settings, record: dict[str, Any]) -> list[str]:
    """What the report says of the data: rows, split, digests and commit."""
    version = (
        f"DVC md5 `{record['data_dvc_md5']}`"
        if "data_dvc_md5" in record
        else f"md5 `{record.get('data_md5', 'unknown')}`"
    )
    return [
        f"`{settings.data.path}`: {record['rows']} rows "
        f"({record['train_rows']} train / {record['test_rows']} test)",
        f"sha256 `{record['data_sha256'][:12]}…`, {version}, {commit_label(record)}",
    ]


def _run_url(settings: Settings, run: tracking.LoggedRun) -> str | None:
    """The run's page in the tracking server's UI when the server is HTTP(S), else None."""
    uri = tracking_uri(settings)
    if uri.startswith(("http://", "https://")):
        return f"{uri.rstrip('/')}/#/experiments/{run.experiment_id}/runs/{run.run_id}"
    return None


def _run_link(settings: Settings, run: tracking.LoggedRun) -> str:
    """A browser link to the run when the tracking server is HTTP(S), else the run id."""
    return _run_url(settings, run) or f"run `{run.run_id}` (`make mlflow-ui` to browse)"


def figure_links(settings: Settings, run: tracking.LoggedRun, figures: list[str]) -> list[str]:
    """Each of the run's figures (artifact paths, from reports/metrics.json): a link to it in the
    tracking server's UI when there is one, else its artifact path."""
    url = _run_url(settings, run)
    return [f"[`{path}`]({url}/artifactPath/{path})" if url else f"`{path}`" for path in figures]


def _figures_note(settings: Settings) -> str:
    """Where else the figures are: reports/figures/, which a GitHub Actions run uploads."""
    local = f"`{settings.reports_dir / 'figures'}/`"
    if os.environ.get("GITHUB_ACTIONS") == "true" and os.environ.get("GITHUB_RUN_ID"):
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        repository = os.environ.get("GITHUB_REPOSITORY", "")
        workflow_run = f"{server}/{repository}/actions/runs/{os.environ['GITHUB_RUN_ID']}"
        artifact = f"the `reports` artifact of [this workflow run]({workflow_run})"
        return f"run artifacts; {local} in {artifact}"
    return f"run artifacts; also in {local}"
