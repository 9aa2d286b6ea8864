"""A Dask cluster: the search's fits and predict's chunks run on its worker processes with the
results of a local run; predict reads any file in chunks with bounded memory; an unreachable
scheduler or a missing extra is one line."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import sysconfig
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import TASK, edit_config, scratch_project
from distributed import Client, LocalCluster, get_task_stream

from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.config import load_settings
from {{ cookiecutter.module_name }}.errors import EXIT_DATA, EXIT_REGISTRY, EXIT_USAGE

pytestmark = pytest.mark.slow

SHA = "a" * 40
SCORING = "f1_macro" if TASK == "classification" else "r2"
PARAM = "C" if TASK == "classification" else "alpha"
VALUES = [0.01, 0.1, 1.0, 10.0]
FOLDS = 3


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes (not threads) and a client of the test's own."""
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as local,
        Client(local.scheduler_address, set_as_default=False) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A scratch project whose store holds a production model (trained once for the module)."""
    with pytest.MonkeyPatch.context() as patch:
        root = scratch_project(tmp_path_factory.mktemp("production"), patch)
        assert main(["data"]) == 0
        assert main(["pipeline"]) == 0
        assert main(["promote", "--git-sha", SHA]) == 0
        return root, os.environ["MLFLOW_TRACKING_URI"]


@pytest.fixture
def scoring(production: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> Path:
    """The production project as the working directory, with its store."""
    root, uri = production
    monkeypatch.chdir(root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    return root


def _set(project: Path, **sections) -> None:
    def mutate(raw: dict) -> None:
        for key, value in sections.items():
            raw[key] = value

    edit_config(project, mutate)


def _small_search(project: Path, **dask) -> None:
    """A search of two candidates in the config, and these ``dask`` settings if any."""

    def mutate(raw: dict) -> None:
        raw["model"]["search"] = {"params": {PARAM: VALUES[:2]}, "folds": 2, "scoring": SCORING}
        if dask:
            raw["dask"] = dask

    edit_config(project, mutate)


def _fits(records: list[dict]) -> int:
    """Cross-validation fits the scheduler ran: joblib names each task after its batch of
    calls (``batch_of__fit_and_score_3_calls``)."""
    found = [re.search(r"fit_and_score_(\d+)_calls", str(r["key"])) for r in records]
    return sum(int(match.group(1)) for match in found if match)


def _closed_port() -> str:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"  # nothing listens once it is closed


def test_tune_on_the_cluster_runs_every_fit_there_with_the_local_result(
    project: Path, cluster: Client, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    assert main(["data"]) == 0

    def search(raw: dict) -> None:
        raw["model"]["search"] = {
            "method": "grid",
            "params": {PARAM: VALUES},
            "folds": FOLDS,
            "scoring": SCORING,
        }

    edit_config(project, search)
    assert main(["tune"]) == 0, capsys.readouterr().err
    here = json.loads((project / "reports" / "search.json").read_text())

    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler.address)
    with get_task_stream(cluster) as stream:
        assert main(["tune"]) == 0, capsys.readouterr().err
    there = json.loads((project / "reports" / "search.json").read_text())

    # Every candidate x fold ran as a task on a worker process, none in this one, and nothing
    # else did: no column group became a task of its own (features.InProcessColumnTransformer).
    assert _fits(stream.data) == len(VALUES) * FOLDS
    assert all("fit_and_score" in str(record["key"]) for record in stream.data)
    workers = cluster.run(os.getpid)
    assert {record["worker"] for record in stream.data} <= set(workers)
    assert os.getpid() not in workers.values()
    # The same folds and seeds: the same scores and the same winner.
    assert there["best"]["params"] == here["best"]["params"]
    assert [c["params"] for c in there["candidates"]] == [c["params"] for c in here["candidates"]]
    assert [c["mean"] for c in there["candidates"]] == pytest.approx(
        [c["mean"] for c in here["candidates"]], abs=1e-12
    )
    # The same MLflow child runs: one per candidate, under each tune run.
    from mlflow.tracking import MlflowClient

    store = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
    experiments = [e.experiment_id for e in store.search_experiments()]
    parents = store.search_runs(experiments, filter_string="tags.kind = 'tune'")
    assert len(parents) == 2
    children = [
        sorted(
            child.data.params[PARAM]
            for child in store.search_runs(
                experiments, filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
            )
        )
        for parent in parents
    ]
    assert children[0] == children[1] == sorted(str(value) for value in VALUES)


def test_an_unreachable_scheduler_is_one_line_exit_5(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    assert main(["data"]) == 0

    _small_search(project, scheduler=_closed_port(), connect_timeout=1)
    capsys.readouterr()

    assert main(["tune"]) == EXIT_REGISTRY

    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "did not answer within 1 s" in line
    assert "dask.scheduler" in line
    assert not (project / "reports" / "search.json").exists()

    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "http://127.0.0.1:8786")
    assert main(["tune"]) == EXIT_USAGE
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "DASK_SCHEDULER_ADDRESS: http://127.0.0.1:8786 is not a usable Dask address" in line


def test_without_the_dask_extra_an_address_is_one_line(project: Path, tmp_path: Path) -> None:
    """A Python where `distributed` cannot be imported, as when the extra is not installed."""
    assert main(["data"]) == 0
    missing = tmp_path / "without_dask"
    (missing / "distributed").mkdir(parents=True)
    (missing / "distributed" / "__init__.py").write_text("raise ImportError('not installed')\n")
    env = os.environ | {"PYTHONPATH": str(missing), "DASK_SCHEDULER_ADDRESS": _closed_port()}
    _small_search(project)

    result = subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.module_name }}", "tune"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )

    assert result.returncode == EXIT_USAGE, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "DASK_SCHEDULER_ADDRESS is set" in line
    assert "pip install '.[dask]'" in line


def _batch(rows: int, seed: int = 0) -> pd.DataFrame:
    """``rows`` rows drawn from the training data, a few out of range or missing."""
    settings = load_settings()
    frame = pd.read_csv(settings.data.path).drop(columns=[settings.data.target])
    rng = np.random.default_rng(seed)
    batch = frame.iloc[rng.integers(0, len(frame), rows)].reset_index(drop=True)
    numeric = batch.select_dtypes("number").columns[0]
    batch.loc[rng.integers(0, rows, max(1, rows // 50)), numeric] = 1e6
    batch[numeric] = batch[numeric].astype(object)
    batch.loc[rng.integers(0, rows, max(1, rows // 70)), numeric] = None
    return batch


def test_predict_in_chunks_here_and_on_the_cluster_writes_the_same_predictions(
    scoring: Path, cluster: Client, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    _batch(1000).to_csv("batch.csv", index=False)
    runs = {
        "one chunk": ({}, None),
        "chunks here": ({"chunk_rows": 70}, None),
        "chunks on the cluster": ({"chunk_rows": 70}, cluster.scheduler.address),
    }
    outputs, warnings = {}, {}
    for name, (predict, address) in runs.items():
        _set(scoring, predict=predict)
        if address:
            monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
        capsys.readouterr()
        with get_task_stream(cluster) as stream:
            assert main(["predict", "--input", "batch.csv", "--output", f"{name}.csv"]) == 0
        captured = capsys.readouterr()
        assert "wrote 1000 predictions" in captured.out
        outputs[name] = Path(f"{name}.csv").read_bytes()
        warnings[name] = [line for line in captured.err.splitlines() if "value(s)" in line]
        scored = [r for r in stream.data if str(r["key"]).startswith("score-")]
        assert len(scored) == (15 if address else 0)  # ceil(1000 / 70) chunks, each a task

    # The same rows in the same order with the same labels and ids, and numbers equal to the last
    # bits of a float (BLAS may round a product differently for another number of rows).
    whole = pd.read_csv(io.BytesIO(outputs["one chunk"]))
    assert len(whole) == 1000
    for name in ("chunks here", "chunks on the cluster"):
        chunked = pd.read_csv(io.BytesIO(outputs[name]))
        pd.testing.assert_frame_equal(chunked, whole, check_exact=False, rtol=1e-12, atol=0)
    # Warnings count the whole input, once each.
    assert warnings["one chunk"]
    assert warnings["chunks here"] == warnings["chunks on the cluster"] == warnings["one chunk"]
    assert len(set(warnings["one chunk"])) == len(warnings["one chunk"])


def test_a_bad_value_in_a_late_chunk_is_the_whole_files_error_and_writes_nothing(
    scoring: Path, cluster: Client, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    batch = _batch(500)
    numeric = batch.select_dtypes("number").columns
    column = numeric[-1] if len(numeric) else batch.columns[-1]
    batch[column] = batch[column].astype(object)
    batch.loc[[430, 470], column] = "unknown"
    batch.to_csv("bad.csv", index=False)
    Path("before.csv").write_text("kept\n")
    errors = []
    for predict, on_cluster in (
        ({}, False),
        ({"chunk_rows": 60}, False),
        ({"chunk_rows": 60}, True),
    ):
        _set(scoring, predict=predict)
        if on_cluster:
            monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler.address)
        capsys.readouterr()
        assert main(["predict", "--input", "bad.csv", "--output", "before.csv"]) == EXIT_DATA
        (line,) = capsys.readouterr().err.strip().splitlines()
        errors.append(line)
        assert Path("before.csv").read_text() == "kept\n"
        assert not list(Path().glob(".before.csv.partial"))

    assert errors[0] == errors[1] == errors[2]
    assert f"column {column!r}" in errors[0]
    assert "in 2 row(s)" in errors[0]


def test_predict_on_an_unreachable_scheduler_writes_nothing(
    scoring: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    _batch(50).to_csv("small.csv", index=False)
    _set(scoring, dask={"connect_timeout": 1})
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", _closed_port())
    capsys.readouterr()

    assert main(["predict", "--input", "small.csv", "--output", "never.csv"]) == EXIT_REGISTRY

    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "DASK_SCHEDULER_ADDRESS" in line
    assert not Path("never.csv").exists()


@pytest.fixture
def unfit_cluster(tmp_path_factory: pytest.TempPathFactory):
    """A scheduler whose one worker has this environment's libraries but not this project's
    package: its own venv reads the libraries' site-packages through a .pth line (Python does
    not process the .pth files found there, so the package's editable install is not seen)."""
    home = tmp_path_factory.mktemp("unfit-worker")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home / "venv")], check=True)
    (site,) = (home / "venv" / "lib").glob("python3*/site-packages")
    libraries = {sysconfig.get_paths()[kind] for kind in ("purelib", "platlib")}
    (site / "libraries.pth").write_text("".join(f"{path}\n" for path in sorted(libraries)))
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    with LocalCluster(n_workers=0, processes=True, dashboard_address=None) as scheduler:
        address = scheduler.scheduler_address
        command = [str(home / "venv" / "bin" / "python"), "-m", "distributed.cli.dask_worker"]
        worker = subprocess.Popen(
            [*command, address, "--nthreads", "1", "--no-dashboard"],
            cwd=home,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with Client(address, set_as_default=False) as client:
                client.wait_for_workers(1, timeout=120)
                found = client.run(find_spec, "{{ cookiecutter.module_name }}")
                assert list(found.values()) == [None]  # the worker cannot import the package
            yield address
        finally:
            worker.terminate()
            worker.wait(timeout=60)


def test_workers_without_the_package_are_one_line_exit_5_and_write_nothing(
    project: Path, unfit_cluster: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    assert main(["data"]) == 0
    _small_search(project)
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", unfit_cluster)
    capsys.readouterr()

    assert main(["tune"]) == EXIT_REGISTRY

    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "1 of 1 worker(s) of the Dask scheduler" in line
    assert "cannot import {{ cookiecutter.module_name }}" in line
    assert "unset DASK_SCHEDULER_ADDRESS" in line
    assert not (project / "reports" / "search.json").exists()


def test_a_scheduler_without_workers_is_one_line_exit_5(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    assert main(["data"]) == 0

    _small_search(project, connect_timeout=1)
    with LocalCluster(n_workers=0, processes=True, dashboard_address=None) as empty:
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", empty.scheduler_address)
        capsys.readouterr()

        assert main(["tune"]) == EXIT_REGISTRY

    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "has no worker (none joined within 1 s)" in line
    assert not (project / "reports" / "search.json").exists()


def test_predict_on_workers_without_the_package_is_one_line_and_writes_nothing(
    scoring: Path, unfit_cluster: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    _batch(50).to_csv("small.csv", index=False)
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", unfit_cluster)
    capsys.readouterr()

    assert main(["predict", "--input", "small.csv", "--output", "never.csv"]) == EXIT_REGISTRY

    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "cannot import {{ cookiecutter.module_name }}" in line
    assert not Path("never.csv").exists()


def _peak_rss(project: Path, source: str, output: str) -> int:
    """Peak RSS (bytes) of `predict` in a child process."""
    probe = (
        "import resource, subprocess, sys\n"
        "code = subprocess.run(sys.argv[1:]).returncode\n"
        "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n"
    )
    command = [sys.executable, "-m", "{{ cookiecutter.module_name }}", "predict"]
    result = subprocess.run(
        [sys.executable, "-c", probe, *command, "--input", source, "--output", output],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    code, peak = result.stdout.split()[-2:]
    assert code == "0", result.stderr
    return int(peak)


def test_predict_memory_is_bounded_by_the_chunk_not_the_file(scoring: Path) -> None:
    """A file whose frame is 10x the cap (the frame of the small file) adds less than the cap."""
    rows, chunk = 30_000, 3_000
    small = _batch(rows).assign(id=lambda f: [f"customer-{i:032d}" for i in range(len(f))])
    small.to_csv("small.csv", index=False)
    large = pd.concat([small] * 10, ignore_index=True)
    large.to_csv("large.csv", index=False)
    cap = int(small.memory_usage(deep=True).sum())
    _set(scoring, predict={"chunk_rows": chunk})

    small_peak = _peak_rss(scoring, "small.csv", "small-out.csv")
    large_peak = _peak_rss(scoring, "large.csv", "large-out.csv")

    assert len(pd.read_csv("large-out.csv")) == 10 * rows
    assert large_peak - small_peak < cap, (small_peak, large_peak, cap)
