"""Gate decisions: thresholds in both directions, regression tolerance, fail closed."""

from __future__ import annotations

from {{ cookiecutter.module_name }}.config import Criterion, GateSettings
from {{ cookiecutter.module_name }}.gate import decide, report_markdown

GATE = GateSettings(
    criteria=[
        Criterion(metric="accuracy", threshold=0.8, direction="higher"),
        Criterion(metric="log_loss", threshold=0.5, direction="lower", max_regression=0.1),
    ],
    max_regression=0.02,
)


def test_passes_on_thresholds_without_production() -> None:
    result = decide(GATE, {"accuracy": 0.9, "log_loss": 0.3}, None)
    assert result.passed
    assert all(check.no_regression is None for check in result.checks)


def test_fails_below_threshold() -> None:
    result = decide(GATE, {"accuracy": 0.7, "log_loss": 0.3}, None)
    assert not result.passed
    assert [c.metric for c in result.checks if not c.passed] == ["accuracy"]


def test_fails_above_threshold_when_lower_is_better() -> None:
    result = decide(GATE, {"accuracy": 0.9, "log_loss": 0.6}, None)
    assert [c.metric for c in result.checks if not c.passed] == ["log_loss"]


def test_regression_within_tolerance_passes() -> None:
    production = {"accuracy": 0.91, "log_loss": 0.35}
    assert decide(GATE, {"accuracy": 0.895, "log_loss": 0.44}, production).passed


def test_regression_beyond_tolerance_fails() -> None:
    production = {"accuracy": 0.95, "log_loss": 0.2}
    result = decide(GATE, {"accuracy": 0.9, "log_loss": 0.35}, production)
    assert not result.passed
    assert [c.metric for c in result.checks if c.no_regression is False] == ["accuracy", "log_loss"]


def test_missing_metric_fails_closed() -> None:
    result = decide(GATE, {"accuracy": 0.9}, None)
    assert not result.passed
    assert result.problems == ["metric 'log_loss' was not computed for the candidate"]


def test_report_has_table_and_verdict() -> None:
    result = decide(GATE, {"accuracy": 0.7, "log_loss": 0.3}, {"accuracy": 0.95, "log_loss": 0.2})
    text = report_markdown(
        result,
        title="demo",
        production_label="version 1",
        data_lines=["150 rows"],
        run_line="run `abc`",
    )
    assert text.startswith("## demo: gate ❌ failed")
    assert "| metric | candidate | production | threshold | result |" in text
    assert (
        "| accuracy | 0.7000 | 0.9500 | ≥ 0.8 | fail (threshold) (regressed more than 0.02) |"
        in text
    )
    assert "- 150 rows" in text
