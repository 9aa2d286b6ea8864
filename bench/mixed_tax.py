"""The pipeline tax on a mixed table (issue 27: <= 1.3x at 200k rows), run with a generated
project's Python in a scratch folder.

The table is the generated tests' own (tests/tables.py, `mixed_table`): an id, a date in a
non-ISO format, categories with missing values, a high-cardinality category, yes/no, free text,
a group column, missing features and labels. `python -m <package> pipeline` on a warm store
(validate -> train -> gate -> register) against a bare script that reads the same CSV, fits the
same scikit-learn pipeline (the package's `build_pipeline`, on a stratified split of the labelled
rows) and scores it: interleaved, medians of REPEATS.

Usage: PROJECT/.venv/bin/python bench/mixed_tax.py PROJECT_DIR [--rows N] [--repeats N]
[--out DIR]. Prints one line per figure and a JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

SHA = "c" * 40
TASK = "classification"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, help="keep the scratch folder here")
    parser.add_argument("--bare", type=Path, help=argparse.SUPPRESS)  # the bare script's run
    args = parser.parse_args()
    if args.bare:
        return bare(args.bare)
    project = args.project.resolve()
    module = next(p.parent.name for p in (project / "src").glob("*/cli.py"))
    scratch = (args.out or Path(tempfile.mkdtemp(prefix="mixed-tax-"))).resolve()
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    env = os.environ | {
        "MLFLOW_TRACKING_URI": f"sqlite:///{scratch / 'mlflow.db'}",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "ALLOW_DIRTY": "1",
        "GITHUB_SHA": SHA,
    }
    write_inputs(project, scratch, args.rows)

    def timed(command: list[str]) -> float:
        start = time.perf_counter()
        result = subprocess.run(command, cwd=scratch, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({result.returncode}): {result.stderr}")
        return seconds

    pipeline = [sys.executable, "-m", module, "pipeline"]
    timed(pipeline)  # the store is warm from here on
    bares, pipelines = [], []
    for _ in range(args.repeats):
        bares.append(timed([sys.executable, __file__, str(project), "--bare", str(scratch)]))
        pipelines.append(timed(pipeline))
    stages = json.loads((scratch / "reports" / "timings.json").read_text())
    report = {
        "rows": args.rows,
        "bare_s": round(statistics.median(bares), 3),
        "pipeline_warm_s": round(statistics.median(pipelines), 3),
        "stages_last_run": stages,
        "load_average": os.getloadavg()[0],
    }
    report["tax_warm"] = round(report["pipeline_warm_s"] / report["bare_s"], 2)
    report["ok"] = report["tax_warm"] <= 1.3
    print(
        f"pipeline tax, {args.rows} mixed rows, warm store: {report['tax_warm']:.2f}x "
        f"(budget <= 1.3x): {report['pipeline_warm_s']:.2f} s vs bare {report['bare_s']:.2f} s"
    )
    print(json.dumps(report))
    if not args.out:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def write_inputs(project: Path, scratch: Path, rows: int) -> None:
    """The mixed table, its schema and the project's config pointing at them."""
    sys.path.insert(0, str(project / "tests"))
    import tables  # the generated project's test tables

    shutil.copytree(project / "config", scratch / "config")
    (scratch / "data").mkdir()
    tables.mixed_table(TASK, rows=rows).to_csv(scratch / "data" / "mixed.csv", index=False)
    (scratch / "config" / "schema.yaml").write_text(tables.schema_text(TASK))
    path = scratch / "config" / "pipeline.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["task"] = TASK
    raw["data"] |= {"path": "data/mixed.csv", "target": tables.TARGET}
    raw["model"] = {
        "estimator": "sklearn.linear_model.LogisticRegression",
        "params": {"max_iter": 500},
    }
    for criterion in raw["gate"]["criteria"]:
        criterion.pop("threshold", None)
    path.write_text(yaml.safe_dump(raw))


def bare(scratch: Path) -> int:
    """Read the CSV, fit the package's scikit-learn pipeline on a stratified split, score it."""
    import importlib

    import pandas as pd
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import train_test_split

    os.chdir(scratch)
    module = next(p.parent.name for p in (Path(sys.argv[1]) / "src").glob("*/cli.py"))
    config = importlib.import_module(f"{module}.config")
    model = importlib.import_module(f"{module}.core.model")
    settings, schema = config.load(scratch / "config" / "pipeline.yaml")
    target, seed = settings.data.target, settings.data.seed
    frame = pd.read_csv(settings.data.path).dropna(subset=[target])
    x, y = frame.drop(columns=target), frame[target]
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=settings.data.test_size, random_state=seed, stratify=y
    )
    pipeline = model.build_pipeline(settings.model, schema, target, seed, TASK)
    pipeline.fit(x_train, y_train)
    print(accuracy_score(y_test, pipeline.predict(x_test)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
