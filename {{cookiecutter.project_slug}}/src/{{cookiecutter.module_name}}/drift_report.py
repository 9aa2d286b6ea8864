"""The reports `monitor` and `evaluate` leave: Markdown for an issue or a job summary, and a
self-contained HTML page with reference-vs-batch plots."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import pandas as pd

from .core import drift, gate

# Plots in the HTML report (drifted columns first).
MAX_PLOTS = 40
STYLE = (
    "body {font-family: sans-serif; margin: 2em} table {border-collapse: collapse} "
    "td, th {border: 1px solid #ccc; padding: 4px 8px} tr.drift {background: #fde2e2} "
    "img {margin: 4px; border: 1px solid #eee}"
)


def drift_markdown(report: dict[str, Any]) -> str:
    """The drift summary for an issue or a job summary: verdict, reasons, drifted columns."""
    verdict = "❌ drift" if report["drift"] else "✅ no drift"
    lines = [
        f"## {report['model_name']} version {report['model_version']}: {verdict}",
        "",
        f"Batch `{report['input']}` ({report['rows']} rows, sha256 "
        f"`{report['input_sha256'][:12]}…`) against {report['reference_rows']} training rows.",
        "",
        *[f"- {reason}" for reason in report["reasons"]],
        "",
        "| column | test | statistic | result |",
        "|---|---|---|---|",
    ]
    for name, result in report["columns"].items():
        if result["drifted"]:
            statistic = "—" if result["statistic"] is None else f"{result['statistic']:.4g}"
            reasons = "; ".join(result["reasons"])
            lines.append(f"| {name} | {result['method'] or '—'} | {statistic} | {reasons} |")
    return "\n".join(lines) + "\n"


def evaluation_markdown(
    body: dict[str, Any], result: gate.GateResult, source: Path, trained: dict[str, float]
) -> str:
    verdict = "✅ meets the gate" if result.passed else "❌ below the gate"
    lines = [
        f"## {body['model_name']} version {body['model_version']} on `{source}`: {verdict}",
        "",
        f"{body['rows']} labelled rows ({body['unlabelled_rows']} without a label skipped).",
        "",
        "| metric | now | baseline (skill) | at training | threshold | result |",
        "|---|---|---|---|---|---|",
    ]
    for check in result.checks:
        threshold, baseline, outcome = gate.cells(check)
        before = gate.number(trained.get(check.metric))
        lines.append(
            f"| {check.metric} | {check.candidate:.4f} | {baseline} | {before} | {threshold} "
            f"| {outcome} |"
        )
    lines += [f"- ❌ {problem}" for problem in result.problems]
    return "\n".join(lines) + "\n"


def drift_html(
    report: dict[str, Any], reference: dict[str, Any], batch: pd.DataFrame, predictions: Any
) -> str:
    """A self-contained page: verdict, per-column table, and reference-vs-batch plots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = report["columns"]
    rows = []
    for name, result in sorted(columns.items(), key=lambda item: not item[1]["drifted"]):
        statistic = "—" if result["statistic"] is None else f"{result['statistic']:.4g}"
        unseen = result.get("unseen_share")
        rows.append(
            "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} → {}</td>"
            "<td>{}</td><td>{}</td></tr>".format(
                ' class="drift"' if result["drifted"] else "",
                html.escape(name),
                result["kind"],
                html.escape(result["method"] or "not tested"),
                statistic,
                drift.percent(result["missing_reference"], 1),
                drift.percent(result["missing_current"], 1),
                "—" if unseen is None else drift.percent(unseen, 1),
                html.escape("; ".join(result["reasons"]) or "no drift"),
            )
        )
    plotted = list(report["drifted_columns"])
    plotted += [name for name in columns if name not in plotted and columns[name]["method"]]
    plots = [("predictions", reference["prediction"], pd.Series(predictions))]
    plots += [(name, reference["columns"][name], batch[name]) for name in plotted[:MAX_PLOTS]]
    images = []
    for (name, _, _), png in zip(plots, _pngs(plt, plots), strict=True):
        encoded = base64.b64encode(png).decode()
        images.append(f'<img alt="{html.escape(name)}" src="data:image/png;base64,{encoded}">')
    verdict = "Drift detected" if report["drift"] else "No drift"
    reasons = "".join(f"<li>{html.escape(reason)}</li>" for reason in report["reasons"])
    title = f"{report['model_name']} version {report['model_version']}: {verdict}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Batch <code>{html.escape(report["input"])}</code>: {report["rows"]} rows against a reference
of {report["reference_rows"]} training rows. {len(report["drifted_columns"])} of {len(columns)}
feature columns drifted ({drift.percent(report["drift_share"])}; drift from
{drift.percent(report["drift_share_threshold"])}).</p><ul>{reasons}</ul>
<table><tr><th>column</th><th>kind</th><th>test</th><th>statistic</th><th>missing</th>
<th>unseen</th><th>result</th></tr>{"".join(rows)}</table>
<h2>Reference (training) vs batch</h2>{"".join(images)}
</body></html>
"""


def _pngs(plt: Any, plotted: list[tuple[str, dict[str, Any], Any]]) -> list[bytes]:
    """Each plot as PNG bytes."""
    return [_png(plt, *plot) for plot in plotted]


def _png(plt: Any, name: str, entry: dict[str, Any], values: Any) -> bytes:
    figure, axis = plt.subplots(figsize=(4.5, 3))
    _plot(axis, entry, values)
    axis.set_title(name)
    axis.legend(fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    plt.close(figure)
    return buffer.getvalue()


def _plot(axis: Any, entry: dict[str, Any], values: pd.Series) -> None:
    """Reference vs batch: shares of each category, or densities over shared bins."""
    import numpy as np

    if entry["kind"] == "categorical":
        reference = pd.Series(entry["counts"], dtype=float)
        current = values.dropna().astype(str).value_counts().astype(float)
        shares = [reference / reference.sum(), current / current.sum()]
        both = pd.concat(shares, axis=1, keys=["reference", "batch"]).fillna(0.0)
        both = both.sort_values("reference", ascending=False).head(15)
        positions = np.arange(len(both))
        axis.bar(positions - 0.2, both["reference"], width=0.4, label="reference")
        axis.bar(positions + 0.2, both["batch"], width=0.4, label="batch")
        axis.set_xticks(positions, [str(name)[:12] for name in both.index], rotation=45, fontsize=7)
        return
    reference = np.asarray(entry["values"], dtype=float)
    current = drift.numbers(values)
    bins = np.histogram_bin_edges(np.concatenate([reference, current]), bins=30)
    # One filled outline per histogram, not a rectangle per bin: the same picture, drawn in a
    # fraction of the time (1.3 s less for a `monitor` of 20 numeric columns).
    shape = {"bins": bins, "density": True, "alpha": 0.5, "histtype": "stepfilled"}
    axis.hist(reference, label="reference", **shape)
    axis.hist(current, label="batch", **shape)
