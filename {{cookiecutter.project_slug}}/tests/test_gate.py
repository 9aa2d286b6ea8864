"""Gate decisions: thresholds in both directions, skill over the baseline, regression tolerance,
fail closed."""

from __future__ import annotations

import pytest

from {{ cookiecutter.module_name }}.config import Criterion, GateSettings
from {{ cookiecutter.module_name }}.core.gate import decide, report_markdown
from {{ cookiecutter.module_name }}.core.metrics import skill

GATE = GateSettings(
    criteria=[
        Criterion(metric="accuracy", threshold=0.8, direction="higher"),
        Criterion(metric="log_loss", threshold=0.5, direction="lower", max_regression=0.1),
    ],
    max_regression=0.02,
    baseline_margin=None,
)
# The default gate: no thresholds, 10 % skill over the baseline.
BASELINE_GATE = GateSettings(
    criteria=[
        Criterion(metric="f1_macro", direction="higher"),
        Criterion(metric="log_loss", direction="lower"),
    ],
    baseline_margin=0.1,
)
# A majority-class baseline on 80/20 data: high accuracy, no skill.
BASELINE = {"accuracy": 0.8, "f1_macro": 0.44, "log_loss": 0.5}


def test_passes_on_thresholds_without_production() -> None:
    result = decide(GATE, "classification", {"accuracy": 0.9, "log_loss": 0.3}, None, None)
    assert result.passed
    assert all(check.no_regression is None for check in result.checks)
    assert all(check.beats_baseline is None for check in result.checks)


def test_fails_below_threshold() -> None:
    result = decide(GATE, "classification", {"accuracy": 0.7, "log_loss": 0.3}, None, None)
    assert not result.passed
    assert [c.metric for c in result.checks if not c.passed] == ["accuracy"]


def test_fails_above_threshold_when_lower_is_better() -> None:
    result = decide(GATE, "classification", {"accuracy": 0.9, "log_loss": 0.6}, None, None)
    assert [c.metric for c in result.checks if not c.passed] == ["log_loss"]


def test_regression_within_tolerance_passes() -> None:
    production = {"accuracy": 0.91, "log_loss": 0.35}
    candidate = {"accuracy": 0.895, "log_loss": 0.44}
    assert decide(GATE, "classification", candidate, None, production).passed


def test_regression_beyond_tolerance_fails() -> None:
    production = {"accuracy": 0.95, "log_loss": 0.2}
    result = decide(GATE, "classification", {"accuracy": 0.9, "log_loss": 0.35}, None, production)
    assert not result.passed
    assert [c.metric for c in result.checks if c.no_regression is False] == ["accuracy", "log_loss"]


def test_missing_metric_fails_closed() -> None:
    result = decide(GATE, "classification", {"accuracy": 0.9}, None, None)
    assert not result.passed
    assert result.problems == ["metric 'log_loss' was not computed for the candidate"]


@pytest.mark.parametrize(
    ("metric", "task", "candidate", "baseline", "expected"),
    [
        ("accuracy", "classification", 0.9, 0.8, 0.5),  # half the way from 0.8 to 1
        ("accuracy", "classification", 0.8, 0.8, 0.0),
        ("log_loss", "classification", 0.25, 0.5, 0.5),  # half the way from 0.5 to 0
        ("r2", "regression", 0.4, -0.01, 0.41 / 1.01),
        ("rmse_vs_baseline", "regression", 0.7, 1.0, 0.3),
        ("rmse", "regression", 60.0, 50.0, -0.2),  # worse than the baseline
        ("accuracy", "classification", 1.0, 1.0, 0.0),  # a perfect baseline leaves no gap
        ("accuracy", "classification", 0.9, 1.0, -1.0),
    ],
)
def test_skill_is_the_share_of_the_gap_to_perfect_closed(
    metric: str, task: str, candidate: float, baseline: float, expected: float
) -> None:
    assert skill(metric, task, candidate, baseline) == pytest.approx(expected)


def test_no_better_than_the_majority_class_fails_the_default_gate() -> None:
    # Always predicting the majority class: accuracy equal to the baseline, no threshold set.
    candidate = {"f1_macro": 0.44, "log_loss": 0.5}
    result = decide(BASELINE_GATE, "classification", candidate, BASELINE, None)
    assert not result.passed
    assert [c.metric for c in result.checks if c.beats_baseline is False] == [
        "f1_macro",
        "log_loss",
    ]


def test_a_margin_of_zero_still_requires_beating_the_baseline() -> None:
    gate = BASELINE_GATE.model_copy(update={"baseline_margin": 0.0})
    assert not decide(
        gate, "classification", {"f1_macro": 0.44, "log_loss": 0.5}, BASELINE, None
    ).passed
    assert decide(
        gate, "classification", {"f1_macro": 0.45, "log_loss": 0.49}, BASELINE, None
    ).passed


def test_skill_above_the_margin_passes_and_a_criterion_margin_wins() -> None:
    candidate = {"f1_macro": 0.6, "log_loss": 0.4}  # skills 0.29 and 0.2
    assert decide(BASELINE_GATE, "classification", candidate, BASELINE, None).passed
    strict = BASELINE_GATE.model_copy(
        update={
            "criteria": [
                Criterion(metric="f1_macro", direction="higher", baseline_margin=0.5),
                Criterion(metric="log_loss", direction="lower"),
            ]
        }
    )
    result = decide(strict, "classification", candidate, BASELINE, None)
    assert [c.metric for c in result.checks if not c.passed] == ["f1_macro"]


def test_a_missing_baseline_fails_closed() -> None:
    result = decide(BASELINE_GATE, "classification", {"f1_macro": 0.9, "log_loss": 0.1}, None, None)
    assert not result.passed
    assert result.problems[0] == "no baseline score for 'f1_macro': train again"


def test_report_has_table_and_verdict() -> None:
    gate = GATE.model_copy(update={"baseline_margin": 0.1})
    result = decide(
        gate,
        "classification",
        {"accuracy": 0.7, "log_loss": 0.3},
        BASELINE,
        {"accuracy": 0.95, "log_loss": 0.2},
    )
    text = report_markdown(
        result,
        title="demo",
        production_label="version 1",
        data_lines=["150 rows"],
        run_line="run `abc`",
    )
    assert text.startswith("## demo: gate ❌ failed")
    assert "| metric | candidate | baseline (skill) | production | threshold | result |" in text
    assert (
        "| accuracy | 0.7000 | 0.8000 (-50%) | 0.9500 | ≥ 0.8 | fail (threshold) "
        "(skill over baseline below 10%) (regressed more than 0.02) |" in text
    )
    assert "| log_loss | 0.3000 | 0.5000 (+40%) | 0.2000 | ≤ 0.5 | pass |" in text
    assert "- 150 rows" in text


def test_report_lists_the_run_figures_and_where_they_are() -> None:
    result = decide(GATE, "classification", {"accuracy": 0.9, "log_loss": 0.2}, None, None)
    text = report_markdown(
        result,
        title="demo",
        production_label="none yet",
        data_lines=["150 rows"],
        run_line="run `abc`",
        figure_lines=["`figures/roc_curve.png`", "`figures/calibration_curve.png`"],
        figures_note="run artifacts; also in `reports/figures/`",
    )
    assert text.endswith(
        "**Figures** (run artifacts; also in `reports/figures/`)\n\n"
        "- `figures/roc_curve.png`\n- `figures/calibration_curve.png`\n"
    )
    without = report_markdown(
        result, title="demo", production_label="none", data_lines=[], run_line="run `abc`"
    )
    assert "**Figures**" not in without
