"""Benchmarks of the generated project: render, pipeline tax, stages, scaling, workflows, install.

Every ratio is measured side by side in one run. Writes <out>/bench.json and <out>/bench.md.
Run with `make bench` (or `make bench-smoke` for tiny sizes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.act import AS_ON_RUNNERS, act, init_repository  # noqa: E402
from tests.github_stand_in import GitHubStandIn  # noqa: E402
from tests.helpers import bake, run, tools_env  # noqa: E402

BENCH = Path(__file__).resolve().parent
SLUG = "bench-project"
MODULE = "bench_project"


def timed(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    result = run(args, cwd=cwd, env={**tools_env(), **(env or {})}, timeout=3600)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"benchmark step failed: {' '.join(args)}\n{result.stdout}{result.stderr}")
    return seconds


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def render_time(repeats: int) -> dict:
    seconds = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            bake(Path(out), {"project_name": "Render Probe"})
            seconds.append(time.perf_counter() - start)
    return {"render_s": median(seconds)}


def prepare_project(out: Path) -> Path:
    shutil.rmtree(out / SLUG, ignore_errors=True)
    project = bake(out, {"project_name": SLUG})
    timed(["make", "install"], project)
    timed(["make", "data"], project)
    return project


def _fresh_store(project: Path) -> None:
    (project / "mlflow.db").unlink(missing_ok=True)
    shutil.rmtree(project / "mlruns", ignore_errors=True)


def pipeline_tax(project: Path, repeats: int) -> dict:
    """Interleaved: bare script, pipeline on a fresh store, pipeline on a warm store."""
    python = str(project / ".venv" / "bin" / "python")
    csv = str(next((project / "data" / "raw").glob("*.csv")))
    bare, fresh, warm, stages_fresh, stages_warm = [], [], [], [], []
    timed(["make", "pipeline"], project)  # the warm store exists from here on
    for _ in range(repeats):
        bare.append(timed([python, str(BENCH / "bare_sklearn.py"), csv], project))
        _fresh_store(project)
        fresh.append(timed(["make", "pipeline"], project))
        stages_fresh.append(json.loads((project / "reports" / "timings.json").read_text()))
        warm.append(timed(["make", "pipeline"], project))
        stages_warm.append(json.loads((project / "reports" / "timings.json").read_text()))
    stages = {}
    for label, runs, total in (("fresh", stages_fresh, fresh), ("warm", stages_warm, warm)):
        names = runs[0].keys()
        stages[label] = {name: median([r.get(name, 0.0) for r in runs]) for name in names}
        stages[label]["interpreter start, config, other"] = round(
            median(total) - sum(stages[label].values()), 3
        )
    return {
        "bare_s": median(bare),
        "pipeline_fresh_s": median(fresh),
        "pipeline_warm_s": median(warm),
        "tax_fresh": round(median(fresh) / median(bare), 2),
        "tax_warm": round(median(warm) / median(bare), 2),
        "stages": stages,
    }


def mixed_tax(project: Path, rows: int, repeats: int) -> dict:
    """The tax on the generated tests' mixed table of ``rows`` rows (mixed_tax.py)."""
    python = str(project / ".venv" / "bin" / "python")
    command = [python, str(BENCH / "mixed_tax.py"), str(project), "--rows", str(rows)]
    result = run([*command, "--repeats", str(repeats)], cwd=project, timeout=3600)
    if result.returncode != 0:
        raise SystemExit(f"mixed-table tax failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _measured(python: str, work: Path, stage: str, *extra: str) -> dict:
    """Wall seconds and peak RSS of one `python -m <module> <stage>` in ``work``."""
    result = run(
        [python, str(BENCH / "peak_rss.py"), python, "-m", MODULE, stage, *extra],
        cwd=work,
        env={"MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}"},
        timeout=3600,
    )
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    if measured["returncode"] != 0:
        raise SystemExit(f"{stage} failed in {work}:\n{result.stderr[-2000:]}")
    return measured


def _scaling_schema(precision: str) -> dict:
    feature = {"dtype": "float", "nullable": False, "precision": precision}
    return {
        "min_rows": 10,
        "max_duplicate_rows": 0,
        "columns": {
            **{f"x{i}": feature for i in range(20)},
            "target": {"dtype": "str", "allowed": ["a", "b", "c"]},
        },
    }


def scaling(project: Path, sizes: list[int], out: Path) -> dict:
    """Time and peak RSS of `validate`, `train` and `schema` on synthetic data of each size, the
    features declared `precision: single` (float32, as the memory budget allows); at the largest
    size validate and train again with `precision: double` (float64), for comparison."""
    import yaml

    python = str(project / ".venv" / "bin" / "python")
    results = {}
    for rows in sizes:
        work = out / "scaling" / str(rows)
        shutil.rmtree(work, ignore_errors=True)
        (work / "config").mkdir(parents=True)
        made = run([python, str(BENCH / "synthetic.py"), str(rows), "data.csv"], cwd=work)
        frame_bytes = int(made.stdout.strip().splitlines()[-1])  # as pandas reads it: float64
        config = yaml.safe_load((project / "config" / "pipeline.yaml").read_text())
        config["data"] |= {"path": "data.csv", "schema_file": "config/schema.yaml"}
        config["model"]["params"] = {"max_iter": 200}
        (work / "config" / "pipeline.yaml").write_text(yaml.safe_dump(config))
        row = {"frame_mb": round(frame_bytes / 2**20, 3)}
        precisions = ["single", "double"] if rows == sizes[-1] else ["single"]
        for precision in precisions:
            suffix = "" if precision == "single" else "_double"
            schema = yaml.safe_dump(_scaling_schema(precision))
            (work / "config" / "schema.yaml").write_text(schema)
            for stage in ("validate", "train"):  # budgets: validate <= 2x, train <= 3x the frame
                measured = _measured(python, work, stage)
                row[f"{stage}_s{suffix}"] = round(measured["seconds"], 2)
                row[f"{stage}_peak_mb{suffix}"] = round(measured["peak_rss"] / 2**20, 1)
                row[f"{stage}_over_frame{suffix}"] = round(measured["peak_rss"] / frame_bytes, 2)
        # `schema --force` last: it replaces the hand-written schema the other stages read.
        row["schema_s"] = round(_measured(python, work, "schema", "--force")["seconds"], 2)
        results[str(rows)] = row
    if len(sizes) >= 2:
        small, large = results[str(sizes[-2])], results[str(sizes[-1])]
        results["growth_last_step"] = round(
            (large["validate_s"] + large["train_s"]) / (small["validate_s"] + small["train_s"]), 2
        )
    return results


SEARCH_GRID = [0.01, 0.1, 0.3, 1.0, 3.0, 10.0]  # six candidates


def new_stages(project: Path, monitor_rows: int, repeats: int, out: Path) -> dict:
    """Issue 11's budgets: a 3-fold search over six candidates against one `make train` on the
    sample, and `make monitor` on a batch against a reference of ``monitor_rows`` rows each."""
    import yaml

    config_path = project / "config" / "pipeline.yaml"
    original = config_path.read_text()
    config = yaml.safe_load(original)
    config["model"]["search"] |= {"params": {"C": SEARCH_GRID}, "folds": 3}
    train, tune = [], []
    try:
        config_path.write_text(yaml.safe_dump(config))
        for _ in range(repeats):
            train.append(timed(["make", "train"], project))
            tune.append(timed(["make", "tune"], project))
    finally:
        config_path.write_text(original)
    result = {
        "train_s": median(train),
        "tune_s": median(tune),
        "tune_budget_s": round(6 * median(train) + 1, 2),
    }
    python = str(project / ".venv" / "bin" / "python")
    work = out / "monitor"
    shutil.rmtree(work, ignore_errors=True)
    (work / "config").mkdir(parents=True)
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}"}
    run([python, str(BENCH / "synthetic.py"), str(monitor_rows), "data.csv"], cwd=work)
    run([python, str(BENCH / "synthetic.py"), str(monitor_rows), "batch.csv", "1"], cwd=work)
    config = yaml.safe_load(original)
    config["data"] |= {"path": "data.csv", "schema_file": "config/schema.yaml"}
    config["model"]["params"] = {"max_iter": 200}
    (work / "config" / "pipeline.yaml").write_text(yaml.safe_dump(config))
    cli = [python, "-m", MODULE]
    timed([*cli, "schema", "--target", "target"], work, env)
    timed([*cli, "pipeline"], work, env)
    timed([*cli, "promote", "--version", "1"], work, env)
    seconds = []
    for _ in range(repeats):
        args = [*cli, "monitor", "--input", "batch.csv"]
        start = time.perf_counter()
        done = run(args, cwd=work, env={**tools_env(), **env}, timeout=3600)
        seconds.append(time.perf_counter() - start)
        if done.returncode not in (0, 6):  # 6: drift, a verdict, not a failure
            raise SystemExit(f"monitor failed:\n{done.stderr[-2000:]}")
    return result | {"monitor_rows": monitor_rows, "monitor_s": median(seconds)}


def data_contract(project: Path, rows: int, predict_rows: int) -> dict:
    """Issue 9's budgets: validation of mixed columns, predict-time checks (contract_budget.py)."""
    python = str(project / ".venv" / "bin" / "python")
    result = run(
        [python, str(BENCH / "contract_budget.py"), str(rows), str(predict_rows), str(project)],
        cwd=project,
        timeout=3600,
    )
    if result.returncode != 0:
        raise SystemExit(f"contract budget failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def workflow_overhead(out: Path) -> dict:
    """CI (push) + model (pull request) under act vs the same make targets run directly."""
    base = out / "workflows"
    shutil.rmtree(base, ignore_errors=True)
    project = bake(base / "src", {"project_name": "bench-workflows"})
    init_repository(project)
    repo = f"your-github-user/{project.name}"
    side = {"ref": "feature", "sha": "0" * 40, "repo": {"full_name": repo}}
    payload = {"number": 1, "pull_request": {"number": 1, "head": side, "base": side}}
    start = time.perf_counter()
    with GitHubStandIn() as github:
        ci = act(project, "push", "ci.yml", base / "act-ci", api_url=github.url)
        model = act(
            project,
            "pull_request",
            "model.yml",
            base / "act-model",
            payload=payload,
            api_url=github.url,
        )
    under_act = time.perf_counter() - start
    if ci.returncode or model.returncode:
        raise SystemExit("workflows failed under act:\n" + (ci.log() + model.log())[-3000:])
    # The same targets, job by job, each in its own copy with its own fresh .venv, scheduled as
    # act schedules the jobs: ci.yml's lint and test side by side (act runs as many jobs at once
    # as there are CPUs), then model.yml's train job. Installed as the workflows install
    # (COMPILE=0), with bytecode written on import and CI=true, as act's jobs run them.
    waves = [
        [["install", "COMPILE=0", "lint"], ["install", "COMPILE=0", "test"]],
        [["install", "COMPILE=0", "validate", "train", "gate", "export-model"]],
    ]
    as_on_runners = {**AS_ON_RUNNERS, "CI": "true"}
    start = time.perf_counter()
    for number, wave in enumerate(waves):
        copies = []
        for index, targets in enumerate(wave):
            copy = base / f"direct-{number}-{index}"
            shutil.copytree(project, copy, ignore=shutil.ignore_patterns(".venv", "mlflow.db"))
            copies.append((targets, copy))
        with ThreadPoolExecutor(max_workers=min(len(wave), os.cpu_count() or 1)) as pool:
            list(pool.map(lambda job: timed(["make", *job[0]], job[1], as_on_runners), copies))
    direct = time.perf_counter() - start
    return {
        "act_s": round(under_act, 1),
        "direct_s": round(direct, 1),
        "overhead": round(under_act / direct, 2),
    }


def install_times(out: Path) -> dict:
    """`make install` into a fresh venv from uv.lock, cold then warm cache: with uv on PATH, and
    without (UV=: pip installs the pinned uv into the venv, which installs the rest)."""
    results = {}
    for installer in ("uv", "pip"):
        cache = out / "install-cache" / installer
        shutil.rmtree(cache, ignore_errors=True)
        for state in ("cold", "warm"):
            project = out / "install" / f"{installer}-{state}"
            shutil.rmtree(project.parent / project.name, ignore_errors=True)
            project = bake(project, {"project_name": "bench-install"})
            env = {"UV_CACHE_DIR": str(cache), "PIP_CACHE_DIR": str(cache / "pip")}
            args = ["make", "install"] + ([] if installer == "uv" else ["UV="])
            results[f"{installer}_{state}_s"] = round(timed(args, project, env), 1)
    return results


def versions() -> dict:
    names = ["mlflow", "scikit-learn", "pandas", "numpy", "skops", "cookiecutter"]
    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except Exception:  # the template's venv may lack the project's runtime packages
            found[name] = None
    return found


def markdown(report: dict) -> str:
    tax, scale = report["pipeline"], report.get("scaling", {})
    lines = [
        f"Machine: {report['machine']['cpus']} CPUs, Python {report['machine']['python']}; "
        f"mlflow {report['project_versions'].get('mlflow')}, "
        f"scikit-learn {report['project_versions'].get('scikit-learn')}, "
        f"pandas {report['project_versions'].get('pandas')}.",
        "",
        "| measure | value | budget |",
        "|---|---|---|",
        f"| render default project | {report['render']['render_s']} s | < 1 s |",
        f"| bare scikit-learn script | {tax['bare_s']} s | |",
        f"| `make pipeline`, fresh store | {tax['pipeline_fresh_s']} s (tax {tax['tax_fresh']}×) "
        f"| ≤ 3.5× |",
        f"| `make pipeline`, warm store | {tax['pipeline_warm_s']} s (tax {tax['tax_warm']}×) "
        f"| ≤ 3.0× |",
    ]
    if "mixed" in report:
        mixed = report["mixed"]
        lines.append(
            f"| `pipeline` on {mixed['rows']} mixed rows, warm store / bare script "
            f"| {mixed['pipeline_warm_s']} s / {mixed['bare_s']} s (tax {mixed['tax_warm']}×) "
            "| ≤ 1.3× |"
        )
    if "growth_last_step" in scale:
        lines.append(
            f"| validate + train growth, last 10× rows | {scale['growth_last_step']}× | ≤ 12× |"
        )
        largest, row = next((rows, row) for rows, row in reversed(scale.items()) if rows.isdigit())
        lines += [
            f"| `validate` peak RSS / DataFrame, {largest} rows × 20, precision single "
            f"| {row['validate_over_frame']}× ({row['validate_peak_mb']} MB) | ≤ 2× |",
            f"| `train` peak RSS / DataFrame, same | {row['train_over_frame']}× "
            f"({row['train_peak_mb']} MB) | ≤ 3× |",
        ]
        if "train_over_frame_double" in row:
            lines.append(
                "| the same with precision double (float64): validate / train "
                f"| {row['validate_over_frame_double']}× / {row['train_over_frame_double']}× | |"
            )
    if "contract" in report:
        budget = report["contract"]
        lines += [
            f"| validate {budget['rows']} rows × {budget['columns']} mixed columns "
            f"| {budget['validate_s']} s | < 3 s |",
            "| validation peak memory / DataFrame "
            f"| {budget['validate_peak_over_frame']}× | ≤ 3× |",
            f"| predict-time checks / in-process predict, {budget['predict_rows']} rows "
            f"| {budget['check_s']} s / {budget['predict_s']} s = {budget['check_share']:.1%} "
            "| < 10% |",
        ]
    if "new_stages" in report:
        new = report["new_stages"]
        rows = new["monitor_rows"]
        lines += [
            f"| `make tune`, 3 folds × 6 candidates / `make train` | {new['tune_s']} s / "
            f"{new['train_s']} s | ≤ 6 × train + 1 s = {new['tune_budget_s']} s |",
            f"| `make monitor`, {rows} rows vs {rows} reference rows | {new['monitor_s']} s "
            "| < 10 s at 50000 |",
        ]
    if "workflows" in report:
        wf = report["workflows"]
        lines.append(
            f"| workflows under act / direct make | {wf['act_s']} s / {wf['direct_s']} s "
            f"= {wf['overhead']}× | ≤ 1.3× |"
        )
    for key, value in report.get("install", {}).items():
        lines.append(f"| install, {key.replace('_s', '').replace('_', ' ')} | {value} s | |")
    lines += [
        "",
        "Stage breakdown (median seconds):",
        "",
        "| stage | fresh | warm |",
        "|---|---|---|",
    ]
    for name in tax["stages"]["warm"]:
        lines.append(
            f"| {name} | {tax['stages']['fresh'].get(name, 0)} | {tax['stages']['warm'][name]} |"
        )
    if report.get("section_s"):
        lines += ["", "Time per section (seconds):", "", "| section | s |", "|---|---|"]
        lines += [f"| {name} | {seconds} |" for name, seconds in report["section_s"].items()]
    if scale:
        lines += [
            "",
            "Scaling (synthetic, 20 float features declared `precision: single`; the frame is "
            "the float64 DataFrame pandas reads from the CSV):",
            "",
            "| rows | frame MB | validate s | validate peak MB (/ frame) | train s "
            "| train peak MB (/ frame) | `make schema` s |",
            "|---|---|---|---|---|---|---|",
        ]
        for rows, row in scale.items():
            if isinstance(row, dict):
                lines.append(
                    f"| {rows} | {row['frame_mb']} | {row['validate_s']} | "
                    f"{row['validate_peak_mb']} ({row['validate_over_frame']}×) | "
                    f"{row['train_s']} | {row['train_peak_mb']} ({row['train_over_frame']}×) | "
                    f"{row['schema_s']} |"
                )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--contract-rows", default="1000000,50000", help="validate,predict rows")
    parser.add_argument("--monitor-rows", type=int, default=50000)
    parser.add_argument("--mixed-rows", type=int, default=200000, help="the mixed-table tax")
    parser.add_argument("--skip-workflows", action="store_true")
    parser.add_argument("--skip-installs", action="store_true")
    args = parser.parse_args()
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    # The measured pipelines run in scratch copies that are no git commit: outside CI register
    # would refuse them (its provenance check still runs and is measured).
    os.environ["ALLOW_DIRTY"] = "1"

    started = time.perf_counter()
    project = prepare_project(args.out)
    query = (
        "import json; from importlib.metadata import version as v; "
        "names = ['mlflow', 'scikit-learn', 'pandas', 'numpy', 'skops']; "
        "print(json.dumps({n: v(n) for n in names}))"
    )
    python = str(project / ".venv" / "bin" / "python")
    project_versions = json.loads(run([python, "-c", query], cwd=project).stdout)
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "template_versions": versions(),
        "project_versions": project_versions,
    }
    sections = {
        "render": lambda: render_time(args.repeats),
        "pipeline": lambda: pipeline_tax(project, args.repeats),
        "mixed": lambda: mixed_tax(project, args.mixed_rows, args.repeats),
        "scaling": lambda: scaling(project, [int(s) for s in args.sizes.split(",")], args.out),
        "contract": lambda: data_contract(
            project, *[int(n) for n in args.contract_rows.split(",")]
        ),
        "new_stages": lambda: new_stages(project, args.monitor_rows, args.repeats, args.out),
        "workflows": None if args.skip_workflows else lambda: workflow_overhead(args.out),
        "install": None if args.skip_installs else lambda: install_times(args.out),
    }
    sections_s = report["section_s"] = {"set-up": round(time.perf_counter() - started, 1)}
    for name, measure in sections.items():
        if measure is not None:
            section_start = time.perf_counter()
            report[name] = measure()
            sections_s[name] = round(time.perf_counter() - section_start, 1)
            sections_s.pop("total", None)  # kept last
            sections_s["total"] = round(time.perf_counter() - started, 1)
            # Written after every section: a late failure keeps what was measured.
            (args.out / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    table = markdown(report)
    (args.out / "bench.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
