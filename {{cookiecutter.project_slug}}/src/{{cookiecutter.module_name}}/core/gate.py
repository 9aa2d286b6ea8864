"""Gate decision: thresholds, skill over a trivial baseline, no regression against production.

Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from ..config import GateSettings
from .metrics import skill


@dataclass(frozen=True)
class Check:
    metric: str
    candidate: float
    threshold: float | None  # None: no absolute threshold
    direction: str
    production: float | None
    tolerance: float
    meets_threshold: bool
    no_regression: bool | None  # None: no production model to compare with
    baseline: float | None = None
    skill: float | None = None  # share of the baseline-to-perfect gap the candidate closes
    margin: float | None = None  # required skill; None: no baseline check
    beats_baseline: bool | None = None

    @property
    def passed(self) -> bool:
        return (
            self.meets_threshold
            and self.no_regression is not False
            and self.beats_baseline is not False
        )


@dataclass(frozen=True)
class GateResult:
    checks: list[Check]
    problems: list[str]  # reasons the gate fails beyond the metric checks (fail closed)

    @property
    def passed(self) -> bool:
        return not self.problems and all(check.passed for check in self.checks)


Fallback = TypeVar("Fallback", float, float | None)


def _default(value: float | None, fallback: Fallback) -> float | Fallback:
    """The criterion's own ``value``, else the gate's ``fallback``."""
    return fallback if value is None else value


def decide(
    gate: GateSettings,
    task: str,
    candidate: dict[str, float],
    baseline: dict[str, float] | None,
    production: dict[str, float] | None,
) -> GateResult:
    """Check every criterion: threshold (if any), skill over the trivial baseline, and no
    regression against production. A metric the candidate lacks fails the gate."""
    checks, problems = [], []
    for criterion in gate.criteria:
        if criterion.metric not in candidate:
            problems.append(f"metric {criterion.metric!r} was not computed for the candidate")
            continue
        value = candidate[criterion.metric]
        higher = criterion.direction == "higher"
        meets = True
        if criterion.threshold is not None:
            meets = value >= criterion.threshold if higher else value <= criterion.threshold
        tolerance = _default(criterion.max_regression, gate.max_regression)
        reference = None if production is None else production.get(criterion.metric)
        no_regression = None
        if reference is not None:
            no_regression = (
                value >= reference - tolerance if higher else value <= reference + tolerance
            )
        # Cross-validation metrics have no baseline (it is scored on the test split alone).
        margin = _default(criterion.baseline_margin, gate.baseline_margin)
        if criterion.metric.startswith("cv_"):
            margin = None
        base = None if baseline is None else baseline.get(criterion.metric)
        gained = beats = None
        if margin is not None:
            if base is None:
                problems.append(f"no baseline score for {criterion.metric!r}: train again")
            else:
                gained = skill(criterion.metric, task, value, base)
                # Strictly better than the baseline, by at least the margin.
                beats = gained >= margin and gained > 0
        checks.append(
            Check(
                criterion.metric,
                value,
                criterion.threshold,
                criterion.direction,
                reference,
                tolerance,
                meets,
                no_regression,
                base,
                gained,
                margin,
                beats,
            )
        )
    return GateResult(checks, problems)


def number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def cells(check: Check) -> tuple[str, str, str]:
    """A check's threshold, baseline (skill) and result cells, as the reports show them."""
    sign = "≥" if check.direction == "higher" else "≤"
    threshold = "—" if check.threshold is None else f"{sign} {check.threshold:g}"
    baseline = number(check.baseline)
    if check.skill is not None:
        baseline += f" ({check.skill * 100:+.0f}%)"
    outcome = "pass" if check.passed else "fail"
    if not check.meets_threshold:
        outcome += " (threshold)"
    if check.beats_baseline is False:
        outcome += f" (skill over baseline below {(check.margin or 0.0) * 100:.0f}%)"
    if check.no_regression is False:
        outcome += f" (regressed more than {check.tolerance:g})"
    return threshold, baseline, outcome


def report_markdown(
    result: GateResult,
    *,
    title: str,
    production_label: str,
    data_lines: list[str],
    run_line: str,
    figure_lines: Sequence[str] = (),
    figures_note: str = "",
) -> str:
    """The PR-comment report: verdict, metric table, data summary, run link and the training
    run's figures (``figure_lines``, one per figure; ``figures_note`` says where they are)."""
    verdict = "✅ passed" if result.passed else "❌ failed"
    lines = [
        f"## {title}: gate {verdict}",
        "",
        f"Production: {production_label}",
        "",
        "| metric | candidate | baseline (skill) | production | threshold | result |",
        "|---|---|---|---|---|---|",
    ]
    for check in result.checks:
        threshold, baseline, outcome = cells(check)
        lines.append(
            f"| {check.metric} | {number(check.candidate)} | {baseline} "
            f"| {number(check.production)} | {threshold} | {outcome} |"
        )
    lines += [f"- ❌ {problem}" for problem in result.problems]
    lines += ["", "**Data**", "", *[f"- {line}" for line in data_lines], "", f"**Run**: {run_line}"]
    if figure_lines:
        heading = f"**Figures** ({figures_note})" if figures_note else "**Figures**"
        lines += ["", heading, "", *[f"- {line}" for line in figure_lines]]
    return "\n".join(lines) + "\n"
