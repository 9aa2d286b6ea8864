"""Issue 30's budgets, run with a generated project's Python (installed with its dev extras,
which bring the `dask` extra), in a scratch folder beside nothing of the project's own.

1. `tune` on the sample's search (3 candidates x 3 folds) against a 4-worker LocalCluster
   (worker processes) vs here with the config's n_jobs: wall time of the whole command,
   interleaved, median of REPEATS; budget <= 1.2x. The cluster's first (cold) run is reported
   apart: its workers import scikit-learn once.
2. A search of >= 40 fits (8 candidates x 5 folds of gradient boosting on a synthetic table of
   --fit-rows rows, 20,000 by default: about 2.5 s a fit here, a search worth sending to a
   cluster; at 4,000 rows a fit takes about 0.4 s and the serial refit plus the tasks' round
   trips hold both the cluster and loky below 1.5x on 2 cores): the search's own seconds
   (reports/timings.json) on the 4-worker cluster vs one process (n_jobs: 1); budget >= 1.5x
   faster on 2 cores. Control: n_jobs=-1 here (loky), what this machine's cores give then.
3. `predict` of PREDICT_ROWS rows (10M by default) in chunks, here: seconds and the child's
   peak RSS; budget <= 1 GB. Then the same file on the cluster (this machine's peak RSS).

Usage: PROJECT/.venv/bin/python bench/dask_budget.py PROJECT_DIR [--repeats N]
[--predict-rows N] [--out DIR]. Prints one line per figure and a JSON line at the end.
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

import numpy as np
import pandas as pd
import yaml
from distributed import LocalCluster

SHA = "b" * 40


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--predict-rows", type=int, default=10_000_000)
    parser.add_argument("--fit-rows", type=int, default=20_000, help="rows of the 40-fit search")
    parser.add_argument("--out", type=Path, help="keep the scratch folder here")
    args = parser.parse_args()
    module = next(p.parent.name for p in (args.project / "src").glob("*/cli.py"))
    scratch = args.out or Path(tempfile.mkdtemp(prefix="dask-budget-"))
    scratch.mkdir(parents=True, exist_ok=True)
    bench = Bench(module, scratch, args.project)
    # Ratios are side by side, but other processes on the machine still blur them: say how busy.
    report: dict = {
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg()[0],
        "versions": versions(),
    }
    with LocalCluster(
        n_workers=4, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        report["sample_tune"] = bench.sample_tune(address, args.repeats)
        report["wide_search"] = bench.wide_search(address, args.fit_rows)
        report["predict"] = bench.predict(address, args.predict_rows)
    report["load_after"] = os.getloadavg()[0]
    say(
        "load average (1 min) before / after",
        f"{report['load_before']:.1f} / {report['load_after']:.1f}",
    )
    print(json.dumps(report))
    if not args.out:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def versions() -> dict[str, str]:
    from importlib.metadata import version

    names = ("dask", "distributed", "joblib", "pandas", "scikit-learn", "numpy")
    return {name: version(name) for name in names}


class Bench:
    def __init__(self, module: str, scratch: Path, project: Path) -> None:
        self.module, self.scratch = module, scratch
        shutil.rmtree(scratch / "config", ignore_errors=True)
        shutil.copytree(project / "config", scratch / "config")
        self.env = os.environ | {
            "MLFLOW_TRACKING_URI": f"sqlite:///{scratch / 'mlflow.db'}",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "ALLOW_DIRTY": "1",
            "GITHUB_SHA": SHA,
        }
        self.env.pop("DASK_SCHEDULER_ADDRESS", None)
        self.config = (scratch / "config" / "pipeline.yaml").read_text()
        self.task = yaml.safe_load(self.config)["task"]

    def cli(self, *args: str, address: str | None = None) -> float:
        """Run one command of the project; its wall seconds."""
        env = self.env | ({"DASK_SCHEDULER_ADDRESS": address} if address else {})
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", self.module, *args],
            cwd=self.scratch,
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return seconds

    def edit(self, mutate) -> None:
        path = self.scratch / "config" / "pipeline.yaml"
        raw = yaml.safe_load(path.read_text())
        mutate(raw)
        path.write_text(yaml.safe_dump(raw))

    def sample_tune(self, address: str, repeats: int) -> dict:
        self.cli("data", "--force")
        self.cli("schema", "--force")
        cold = self.cli("tune", address=address)
        here, there = [], []
        for _ in range(repeats):
            here.append(self.cli("tune"))
            there.append(self.cli("tune", address=address))
        result = {
            "here_s": round(statistics.median(here), 3),
            "cluster_s": round(statistics.median(there), 3),
            "cluster_cold_s": round(cold, 3),
        }
        result["ratio"] = round(result["cluster_s"] / result["here_s"], 3)
        result["ok"] = result["ratio"] <= 1.2
        say(
            "tune, sample search (3 x 3 fits), 4-worker cluster / here",
            f"{result['ratio']:.2f}x (budget <= 1.2x): {result['cluster_s']:.2f} s vs "
            f"{result['here_s']:.2f} s; the cluster's cold first run {cold:.2f} s",
        )
        return result

    def wide_search(self, address: str, rows: int) -> dict:
        rng = np.random.default_rng(0)
        features = {f"x{i}": rng.normal(size=rows) for i in range(12)}
        signal = features["x0"] + features["x1"] * features["x2"] + rng.normal(size=rows)
        frame = pd.DataFrame(features)
        if self.task == "classification":
            frame["target"] = np.where(signal > 0, "yes", "no")
            estimator = "sklearn.ensemble.GradientBoostingClassifier"
            scoring = "f1_macro"
        else:
            frame["target"] = signal
            estimator = "sklearn.ensemble.GradientBoostingRegressor"
            scoring = "r2"
        (self.scratch / "data").mkdir(exist_ok=True)
        frame.to_csv(self.scratch / "data" / "wide.csv", index=False)
        self.cli("schema", "--input", "data/wide.csv", "--target", "target", "--force")

        def search(raw: dict) -> None:
            raw["model"]["estimator"] = estimator
            raw["model"]["params"] = {"n_estimators": 60}  # no joblib inside (see README)
            raw["model"]["search"] = {
                "method": "grid",
                "params": {"max_depth": [2, 3, 4, 5], "learning_rate": [0.05, 0.1]},
                "folds": 5,
                "scoring": scoring,
                "n_jobs": 1,
            }

        self.edit(search)
        fits = 4 * 2 * 5
        self.cli("tune")
        one = self.search_seconds()
        self.cli("tune", address=address)
        there = self.search_seconds()
        # The control: scikit-learn's own n_jobs=-1 here (loky), what this machine can give.
        self.edit(lambda raw: raw["model"]["search"].update(n_jobs=-1))
        self.cli("tune")
        every_core = self.search_seconds()
        result = {"fits": fits, "one_process_s": one, "cluster_s": there}
        result["speedup"] = round(one / there, 3)
        result["local_every_core_s"] = every_core
        result["local_speedup"] = round(one / every_core, 3)
        result["ok"] = result["speedup"] >= 1.5
        say(
            f"search of {fits} fits (gradient boosting, {rows} rows), one process / 4 workers",
            f"{result['speedup']:.2f}x faster (budget >= 1.5x): {one:.2f} s vs {there:.2f} s; "
            f"n_jobs=-1 here (control): {result['local_speedup']:.2f}x",
        )
        return result

    def search_seconds(self) -> float:
        return json.loads((self.scratch / "reports" / "timings.json").read_text())["search"]

    def predict(self, address: str, rows: int) -> dict:
        (self.scratch / "config" / "pipeline.yaml").write_text(self.config)  # the sample again
        self.cli("data", "--force")
        self.cli("schema", "--force")
        self.cli("pipeline")
        self.cli("promote", "--git-sha", SHA)
        settings = yaml.safe_load((self.scratch / "config" / "pipeline.yaml").read_text())
        sample = pd.read_csv(self.scratch / settings["data"]["path"])
        sample = sample.drop(columns=[settings["data"]["target"]])
        source = self.scratch / "data" / "large.csv"
        write_rows(sample, rows, source)
        size = source.stat().st_size
        result = {"rows": rows, "csv_mb": round(size / 1e6, 1)}
        command = ["predict", "--input", str(source), "--output", "out.csv"]
        for where, on in (("here", None), ("cluster", address)):
            seconds, peak = self.peak(command, on)
            result[f"{where}_s"], result[f"{where}_peak_mb"] = round(seconds, 1), round(peak, 1)
        result["ok"] = result["here_peak_mb"] <= 1024
        say(
            f"predict {rows:,} rows ({result['csv_mb']} MB CSV) in chunks, peak RSS",
            f"here {result['here_peak_mb']:.0f} MB in {result['here_s']:.0f} s (budget <= 1024 "
            f"MB); on the cluster this machine's process {result['cluster_peak_mb']:.0f} MB in "
            f"{result['cluster_s']:.0f} s",
        )
        source.unlink()
        return result

    def peak(self, args: list[str], address: str | None) -> tuple[float, float]:
        """Seconds and peak RSS (MB) of one command, in a fresh child process."""
        probe = (
            "import json, resource, subprocess, sys, time\n"
            "start = time.perf_counter()\n"
            "code = subprocess.run(sys.argv[1:]).returncode\n"
            "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
            "print(json.dumps([code, time.perf_counter() - start, peak]))\n"
        )
        env = self.env | ({"DASK_SCHEDULER_ADDRESS": address} if address else {})
        result = subprocess.run(
            [sys.executable, "-c", probe, sys.executable, "-m", self.module, *args],
            cwd=self.scratch,
            env=env,
            capture_output=True,
            text=True,
        )
        code, seconds, peak_kib = json.loads(result.stdout.strip().splitlines()[-1])
        if code != 0:
            raise SystemExit(f"{' '.join(args)} failed ({code}): {result.stderr}")
        return seconds, peak_kib / 1024


def write_rows(sample: pd.DataFrame, rows: int, path: Path) -> None:
    """``rows`` rows drawn from ``sample``, written a block at a time (this process stays small)."""
    rng = np.random.default_rng(1)
    block = 500_000
    with path.open("w", encoding="utf-8", newline="") as out:
        for start in range(0, rows, block):
            count = min(block, rows - start)
            drawn = sample.iloc[rng.integers(0, len(sample), count)]
            drawn.to_csv(out, header=start == 0, index=False)


def say(what: str, figure: str) -> None:
    print(f"{what}: {figure}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
