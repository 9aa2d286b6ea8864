"""Gate decision: absolute criteria plus no regression against production. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from .config import GateSettings


@dataclass(frozen=True)
class Check:
    metric: str
    candidate: float
    threshold: float
    direction: str
    production: float | None
    tolerance: float
    meets_threshold: bool
    no_regression: bool | None  # None: no production model to compare with

    @property
    def passed(self) -> bool:
        return self.meets_threshold and self.no_regression is not False


@dataclass(frozen=True)
class GateResult:
    checks: list[Check]
    problems: list[str]  # reasons the gate fails beyond the metric checks (fail closed)

    @property
    def passed(self) -> bool:
        return not self.problems and all(check.passed for check in self.checks)


def decide(
    gate: GateSettings,
    candidate: dict[str, float],
    production: dict[str, float] | None,
) -> GateResult:
    """Check every criterion; a metric the candidate lacks fails the gate rather than passing."""
    checks, problems = [], []
    for criterion in gate.criteria:
        if criterion.metric not in candidate:
            problems.append(f"metric {criterion.metric!r} was not computed for the candidate")
            continue
        value = candidate[criterion.metric]
        higher = criterion.direction == "higher"
        meets = value >= criterion.threshold if higher else value <= criterion.threshold
        tolerance = (
            criterion.max_regression
            if criterion.max_regression is not None
            else gate.max_regression
        )
        baseline = None if production is None else production.get(criterion.metric)
        no_regression = None
        if baseline is not None:
            no_regression = (
                value >= baseline - tolerance if higher else value <= baseline + tolerance
            )
        checks.append(
            Check(
                criterion.metric,
                value,
                criterion.threshold,
                criterion.direction,
                baseline,
                tolerance,
                meets,
                no_regression,
            )
        )
    return GateResult(checks, problems)


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def report_markdown(
    result: GateResult,
    *,
    title: str,
    production_label: str,
    data_lines: list[str],
    run_line: str,
) -> str:
    """The PR-comment report: verdict, metric table, data summary and run link."""
    verdict = "✅ passed" if result.passed else "❌ failed"
    lines = [
        f"## {title}: gate {verdict}",
        "",
        f"Production: {production_label}",
        "",
        "| metric | candidate | production | threshold | result |",
        "|---|---|---|---|---|",
    ]
    for check in result.checks:
        sign = "≥" if check.direction == "higher" else "≤"
        outcome = "pass" if check.passed else "fail"
        if not check.meets_threshold:
            outcome += " (threshold)"
        if check.no_regression is False:
            outcome += f" (regressed more than {check.tolerance:g})"
        lines.append(
            f"| {check.metric} | {_number(check.candidate)} | {_number(check.production)} "
            f"| {sign} {check.threshold:g} | {outcome} |"
        )
    lines += [f"- ❌ {problem}" for problem in result.problems]
    lines += ["", "**Data**", "", *[f"- {line}" for line in data_lines], "", f"**Run**: {run_line}"]
    return "\n".join(lines) + "\n"
