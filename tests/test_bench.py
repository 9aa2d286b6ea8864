"""Smoke test of the benchmark command on tiny sizes: it runs and reports every figure."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.helpers import TEMPLATE_DIR, run, tools_env

pytestmark = pytest.mark.slow


def test_benchmark_runs_on_tiny_sizes(tmp_path: Path) -> None:
    result = run(
        [
            sys.executable,
            "bench/run.py",
            "--repeats",
            "1",
            "--sizes",
            "300,600",
            "--contract-rows",
            "5000,500",
            "--monitor-rows",
            "2000",
            "--mixed-rows",
            "1000",
            "--skip-workflows",
            "--skip-installs",
            "--out",
            str(tmp_path),
        ],
        cwd=TEMPLATE_DIR,
        env={**tools_env(), "CI": ""},  # as `make bench` runs on a laptop
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]

    report = json.loads((tmp_path / "bench.json").read_text())
    assert report["machine"]["cpus"] >= 1
    assert report["project_versions"]["mlflow"]
    assert 0 < report["render"]["render_s"] < 5
    pipeline = report["pipeline"]
    assert pipeline["tax_fresh"] > 1
    assert pipeline["tax_warm"] > 1
    assert {
        "imports",
        "validation",
        "fit",
        "mlflow_logging",
        "model_logging",
        "registration",
        "gate",
    } <= set(pipeline["stages"]["warm"])
    assert set(report["scaling"]) == {"300", "600", "growth_last_step"}
    assert report["scaling"]["600"]["train_peak_mb"] > 0
    assert report["scaling"]["600"]["train_over_frame"] > 1
    assert report["scaling"]["600"]["validate_over_frame"] > 1
    # the largest size again in float64, for comparison; the smaller ones in float32 only
    assert report["scaling"]["600"]["train_over_frame_double"] > 1
    assert "train_over_frame_double" not in report["scaling"]["300"]
    assert "precision double (float64)" in (tmp_path / "bench.md").read_text()
    contract = report["contract"]
    assert contract["rows"] == 5000
    assert contract["columns"] == 20
    assert contract["validate_s"] > 0
    assert contract["validate_peak_over_frame"] >= 1
    assert 0 < contract["check_share"] < 1
    new = report["new_stages"]
    assert 0 < new["tune_s"] <= new["tune_budget_s"]
    assert new["monitor_rows"] == 2000
    assert new["monitor_s"] > 0
    table = (tmp_path / "bench.md").read_text()
    assert "`make tune`, 3 folds × 6 candidates" in table
    assert "predict-time checks / in-process predict, 500 rows" in table
    assert "| `make pipeline`, warm store |" in table
    mixed = report["mixed"]
    assert mixed["rows"] == 1000
    assert mixed["tax_warm"] > 1
    assert {"validation", "fit", "figures"} <= set(mixed["stages_last_run"])
    assert "`pipeline` on 1000 mixed rows, warm store / bare script" in table
    assert "Stage breakdown" in table
    # how long each section took, the skipped ones absent, the total last
    sections = report["section_s"]
    assert list(sections) == [
        "set-up",
        "render",
        "pipeline",
        "mixed",
        "scaling",
        "contract",
        "new_stages",
        "total",
    ]
    assert sections["total"] >= sum(v for k, v in sections.items() if k != "total") - 1
    assert "| total |" in table
