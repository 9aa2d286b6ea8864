"""A team's own table, made by the tests, brought into a generated project as its README says."""

from __future__ import annotations

import csv
import datetime
import random
from pathlib import Path

DATA_FILE = "data/raw/customers.csv"
TARGET = "churned"
PLANS = ["basic", "pro", "team"]
REGIONS = ["north", "south", "east", ""]  # "" is a missing value in the CSV


def customer_table(path: Path, task: str, rows: int = 400, seed: int = 0) -> Path:
    """Write a CSV shaped like real data: an id, a date, text categoricals, yes/no, gaps, a text
    label.

    The label depends on the features, so a model can learn it; nothing comes from a sample.
    """
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        header = [
            "customer_id",
            "signup",
            "plan",
            "paperless",
            "region",
            "tenure",
            "monthly_spend",
            TARGET,
        ]
        writer.writerow(header)
        for i in range(rows):
            plan, tenure = rng.choice(PLANS), rng.randint(0, 71)
            spend = round(rng.gauss(40 + 25 * PLANS.index(plan), 8), 2)
            risk = (tenure < 24) + (plan == "basic") + rng.random() * 0.8
            if task == "classification":
                label: object = "yes" if risk >= 1.2 else "no"
            else:
                label = round(3.5 * tenure + 0.8 * spend + rng.gauss(0, 4), 1)
            writer.writerow(
                [
                    f"C{i:05d}",
                    (datetime.date(2024, 1, 1) - datetime.timedelta(days=30 * tenure)).isoformat(),
                    plan,
                    rng.choice(["yes", "no"]),
                    rng.choice(REGIONS),
                    tenure,
                    "" if i % 23 == 0 else spend,  # missing values in a numeric feature
                    label,
                ]
            )
    return path
