"""Tables in the shapes real data has, made by the tests (never the bundled samples).

An id column, a date in a non-ISO format, a yes/no column, a category with missing values, a
high-cardinality category, free text, a group column, missing features and missing labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from conftest import DATA_PATH, SCHEMA_FILE, edit_config

TARGET = "outcome"
SCHEMA = """\
min_rows: 50
max_duplicate_rows: 0
missing_target: drop
columns:
  customer_id: {dtype: str, role: id, unique: true}
  signup: {dtype: date, format: "%d/%m/%Y"}
  plan: {dtype: str, nullable: true, allowed: [basic, pro, team]}
  city: {dtype: str}
  active: {dtype: bool}
  tenure: {dtype: int, nullable: true, min: 0, max: 200}
  spend: {dtype: float, nullable: true, min: 0.0}
  notes: {dtype: text, nullable: true}
  branch: {dtype: str, role: group}
  exported_at: {dtype: str, role: ignore}
"""
TARGET_RULE = {
    "classification": (
        "  outcome: {dtype: str, role: target, nullable: true, allowed: [stay, leave]}\n"
    ),
    "regression": "  outcome: {dtype: float, role: target, nullable: true, min: 0.0}\n",
}
WORDS = ["late delivery", "great support", "price too high", "happy with product", "slow app"]


def mixed_table(
    task: str, rows: int = 400, seed: int = 0, leave_share: float | None = None
) -> pd.DataFrame:
    """A table whose target depends on tenure, spend, plan, signup month, active and the notes
    (classification: about half "leave", or the ``leave_share`` of rows most likely to)."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(["basic", "pro", "team"], rows).astype(object)
    plan[rng.random(rows) < 0.05] = None
    tenure = rng.integers(0, 120, rows).astype(float)
    spend = rng.gamma(2.0, 50.0, rows).round(2)
    month = rng.integers(1, 13, rows)
    signup = [f"{rng.integers(1, 28):02d}/{m:02d}/20{rng.integers(18, 25)}" for m in month]
    active = rng.choice(["yes", "no"], rows)
    complaint = rng.random(rows) < 0.3
    notes = np.where(
        complaint, "customer says late delivery and price too high", rng.choice(WORDS, rows)
    )
    signal = (
        tenure / 40
        - spend / 100
        + (plan == "team") * 1.5
        + (active == "yes") * 1.0
        + (month >= 10) * 1.0
        - complaint * 2.0
    )
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in range(rows)],
            "signup": signup,
            "plan": plan,
            "city": [f"city-{i}" for i in rng.integers(0, 120, rows)],
            "active": active,
            "tenure": tenure,
            "spend": spend,
            "notes": notes,
            "branch": [f"branch-{i}" for i in rng.integers(0, 30, rows)],
            "exported_at": "2025-01-31",
        }
    )
    frame.loc[rng.random(rows) < 0.05, "tenure"] = np.nan
    frame.loc[rng.random(rows) < 0.05, "spend"] = np.nan
    frame.loc[rng.random(rows) < 0.05, "notes"] = np.nan
    if task == "classification":
        score = signal + rng.normal(0, 0.5, rows)
        cut = signal.mean() if leave_share is None else np.quantile(score, leave_share)
        frame[TARGET] = np.where(score > cut, "stay", "leave")
    else:
        frame[TARGET] = (20 + 10 * signal + rng.normal(0, 2, rows)).clip(1.0).round(3)
    frame.loc[rng.random(rows) < 0.03, TARGET] = np.nan
    return frame


def schema_text(task: str) -> str:
    return SCHEMA + TARGET_RULE[task]


def use_mixed_table(
    project: Path,
    task: str,
    estimator: str,
    rows: int = 600,
    params: dict | None = None,
    leave_share: float | None = None,
) -> pd.DataFrame:
    """Point the scratch ``project`` at a mixed table (written to its data path) and its schema,
    trained with ``estimator`` (and ``params``) and the default gate (no thresholds, skill over
    the baseline)."""
    frame = mixed_table(task, rows=rows, leave_share=leave_share)
    (project / DATA_PATH).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(project / DATA_PATH, index=False)
    (project / SCHEMA_FILE).write_text(schema_text(task))

    def mutate(raw: dict) -> None:
        raw["data"]["target"] = TARGET
        raw["model"] = {"estimator": estimator, "params": params or {}}
        for criterion in raw["gate"]["criteria"]:
            criterion.pop("threshold", None)

    edit_config(project, mutate)
    return frame
