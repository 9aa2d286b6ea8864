"""What the pipeline skips or moves aside to be fast still gives what MLflow would have given.

Each shortcut (process.py, local_store.py, trusted_types.py, deferred.py, figures.aside for
training's figures and the monitor report's plots, the requirements check skipped in tracking.py)
is checked against the slow path it replaces.
"""

from __future__ import annotations

import gc
import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

from {{ cookiecutter.module_name }} import figures, local_store, process, trusted_types
from {{ cookiecutter.module_name }}.cli import main


def _schema(path: Path) -> tuple[set[tuple[str, ...]], list[tuple]]:
    """Every table and index definition (each as its sorted lines: MLflow's migrations write a
    table's constraints in an order that varies between processes), and the schema revision."""
    with sqlite3.connect(path) as db:
        found = db.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall()
        revision = db.execute("SELECT version_num FROM alembic_version").fetchall()
    lines = {tuple(sorted(line.strip(" \t,") for line in sql.splitlines())) for (sql,) in found}
    return lines, revision


def test_a_new_store_is_a_copy_with_the_schema_mlflow_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a store MLflow migrates itself, and one seeded from a fresh empty store
    monkeypatch.setattr(local_store, "SEEDS", tmp_path / "seeds")
    built = tmp_path / "built" / "mlflow.db"
    built.parent.mkdir()
    SqlAlchemyStore(f"sqlite:///{built}", str(tmp_path / "built" / "mlruns")).engine.dispose()
    seeded = tmp_path / "seeded" / "mlflow.db"

    # when
    assert local_store.seed(f"sqlite:///{seeded}")
    store = SqlAlchemyStore(f"sqlite:///{seeded}", str(tmp_path / "seeded" / "mlruns"))

    # then: the same tables, indexes and migration revision; MLflow's own Default experiment,
    # with this store's artifact root (not the one the empty store was built with)
    assert _schema(seeded) == _schema(built)
    default = store.get_experiment("0")
    assert default.name == "Default"
    assert default.artifact_location.startswith(str(tmp_path / "seeded" / "mlruns"))
    store.engine.dispose()
    # and MLflow's own upgrade command takes the seeded store as it takes any store it made
    upgrade = [sys.executable, "-m", "mlflow", "db", "upgrade", f"sqlite:///{seeded}"]
    done = subprocess.run(upgrade, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_an_empty_store_is_built_once_per_mlflow_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_store, "SEEDS", tmp_path / "seeds")
    assert local_store.seed(f"sqlite:///{tmp_path / 'a.db'}")
    assert local_store.seed(f"sqlite:///{tmp_path / 'b.db'}")
    from importlib.metadata import version

    assert [p.name for p in (tmp_path / "seeds").iterdir()] == [f"mlflow-{version('mlflow')}.db"]


def test_seeding_never_replaces_a_store_and_leaves_other_uris_alone(tmp_path: Path) -> None:
    existing = tmp_path / "mlflow.db"
    existing.write_bytes(b"a store with runs")
    assert not local_store.seed(f"sqlite:///{existing}")
    assert existing.read_bytes() == b"a store with runs"
    for uri in ("http://127.0.0.1:5000", "postgresql://u@h/db", "sqlite://", "sqlite:///x?mode=ro"):
        assert not local_store.seed(uri)
    assert list(tmp_path.iterdir()) == [existing]


def test_where_no_empty_store_can_be_kept_mlflow_builds_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the environment's share folder cannot be created (a file is in the way)
    (tmp_path / "blocked").write_text("")
    monkeypatch.setattr(local_store, "SEEDS", tmp_path / "blocked" / "seeds")
    target = tmp_path / "store" / "mlflow.db"
    # then: nothing is seeded and nothing is left behind; MLflow creates the store itself
    assert not local_store.seed(f"sqlite:///{target}")
    assert not target.exists()


def test_the_empty_store_gives_the_head_revision_mlflow_finds_in_its_migrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.store.db.utils import _get_latest_schema_revision

    monkeypatch.setattr(local_store, "SEEDS", tmp_path / "seeds")
    assert local_store.head_revision() is None  # no empty store yet: MLflow finds it itself
    assert local_store.seed(f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert local_store.head_revision() == _get_latest_schema_revision()


def test_a_store_behind_mlflows_schema_is_still_refused_with_mlflows_error(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.exceptions import MlflowException

    from {{ cookiecutter.module_name }} import tracking
    from {{ cookiecutter.module_name }}.config import load_settings

    # given: a store at a revision other than this MLflow's head (as an older MLflow leaves it)
    behind = project / "old" / "mlflow.db"
    assert local_store.seed(f"sqlite:///{behind}")
    with sqlite3.connect(behind) as db:
        db.execute("UPDATE alembic_version SET version_num = 'an-older-revision'")
    db.close()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{behind}")
    # then: MLflow's own check still runs, against the head the empty store gives
    with pytest.raises(MlflowException, match="out-of-date database schema"):
        tracking.connect(load_settings())
    assert local_store.head_revision() is not None
    import mlflow.store.db.utils as utils

    assert utils._get_latest_schema_revision.__module__ == utils.__name__  # put back


# A fresh interpreter imports skops.io (as skops does, or through trusted_types with the kept
# lists in argv[1]), then saves and loads a fitted model with this package's transformers, a
# text target and scikit-learn's internal loss types (HistGradientBoosting) in it.
SKOPS_IMPORT = """
import json, sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline

from {{ cookiecutter.module_name }} import features, trusted_types

trusted_types.KEPT = Path(sys.argv[1])
if sys.argv[2] == "skops":
    import skops.io as skops_io
else:
    skops_io = trusted_types.import_skops_io()
module = sys.modules[trusted_types.MODULE]
rng = np.random.default_rng(0)
x = pd.DataFrame(rng.normal(size=(60, 3)).astype("float32"), columns=["a", "b", "c"])
y = np.where(x["a"] > 0, "yes", "no")
steps = [features.DenseColumns(), features.BlockwiseStandardScaler()]
model = make_pipeline(*steps, HistGradientBoostingClassifier(max_iter=3)).fit(x, y)
untrusted = skops_io.get_untrusted_types(data=skops_io.dumps(model))
loaded = skops_io.loads(skops_io.dumps(model), trusted=untrusted)
print(json.dumps({
    "names": trusted_types.names_of(module),
    "built_by_skops": trusted_types.built_by_skops(module),
    "untrusted": untrusted,
    "same_predictions": bool((loaded.predict(x) == model.predict(x)).all()),
}))
"""


def _script(script: str, *args: object, timeout: int = 120) -> subprocess.CompletedProcess:
    """``script`` run by a fresh interpreter with ``args`` as its arguments."""
    command = [sys.executable, "-c", script, *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def _reported(script: str, *args: object, timeout: int = 120) -> dict:
    """What ``script`` printed as JSON on its last line, once it succeeded."""
    done = _script(script, *args, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


def _skops_import(kept: Path, how: str) -> dict:
    return _reported(SKOPS_IMPORT, kept, how, timeout=300)


def test_skops_trusts_the_same_types_with_the_kept_lists(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    as_skops = _skops_import(kept, "skops")
    first = _skops_import(kept, "kept")  # nothing kept yet: built by skops, then kept
    again = _skops_import(kept, "kept")
    assert first["built_by_skops"]
    assert not again["built_by_skops"]  # the stand-in module, read from the kept file
    assert again["names"] == first["names"] == as_skops["names"]
    assert "SKLEARN_ESTIMATOR_TYPE_NAMES" in again["names"]
    assert "SKLEARN_INTERNAL_TYPE_NAMES" in again["names"]
    assert again["untrusted"] == as_skops["untrusted"]  # the same model trusts the same types
    own = "{{ cookiecutter.module_name }}.features."
    assert any(name.startswith(own) for name in again["untrusted"])
    assert again["same_predictions"]
    assert [path.name for path in kept.iterdir()] == [trusted_types.kept_path().name]


def test_a_kept_file_skops_cannot_use_is_built_anew(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    kept.mkdir()
    path = kept / trusted_types.kept_path().name
    full = _skops_import(kept, "skops")["names"]
    lacking = {key: names for key, names in full.items() if key != "SCIPY_UFUNC_TYPE_NAMES"}
    for stale in ("{not json", json.dumps(lacking)):
        path.write_text(stale)
        seen = _skops_import(kept, "kept")
        assert seen["built_by_skops"]  # a name skops imports is missing: skops builds its lists
        assert seen["same_predictions"]
        assert json.loads(path.read_text()) == full  # and the file is whole again


def test_where_nothing_can_be_kept_skops_builds_its_lists(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder would go")
    seen = _skops_import(blocked / "kept", "kept")
    assert seen["built_by_skops"]
    assert seen["same_predictions"]


def test_training_skips_mlflows_distribution_scan_and_gateway_and_still_pins_every_requirement(
    project: Path,
) -> None:
    # given: a training run in a process of its own (nothing else has scanned distributions),
    # which imports the package first, as `python -m` does
    code = (
        "import sys\n"
        "from {{ cookiecutter.module_name }} import deferred\n"
        "from {{ cookiecutter.module_name }}.cli import main\n"
        "import mlflow.pyfunc\n"
        "from mlflow.utils import environment, requirements_utils\n"
        "assert main(['train']) == 0\n"
        "assert requirements_utils._MODULES_TO_PACKAGES is None, 'distributions were scanned'\n"
        "for module in (environment, mlflow.pyfunc):\n"
        "    assert module.warn_dependency_requirement_mismatches.__name__ != '<lambda>'\n"
        "# nor did training, MLflow's logging or skops need MLflow's gateway (deferred.py)\n"
        "assert isinstance(sys.modules['mlflow.gateway'], deferred.Deferred)\n"
        "assert 'fastapi' not in sys.modules\n"
    )
    assert main(["data"]) == 0
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    # then: the logged model still names exact pins of what it runs on, and loads and predicts
    import mlflow

    from {{ cookiecutter.module_name }} import tracking

    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])  # not an earlier test's store
    uri = json.loads((project / "reports" / "metrics.json").read_text())["model_uri"]
    requirements = mlflow.pyfunc.get_model_dependencies(uri)
    pins = Path(requirements).read_text().split()
    assert set(tracking.model_requirements()) <= set(pins)
    model = mlflow.sklearn.load_model(uri)
    frame = pd.read_csv(project / "data" / "raw" / "training.csv")
    assert len(model.predict(frame.drop(columns="target").head(3))) == 3


# MLflow's gateway package in a fresh interpreter: argv[1] says whether the package is imported
# first (deferred.defer then stands in for mlflow.gateway) or MLflow is (it imports the package
# itself). Prints what it saw as JSON.
GATEWAY = """
import json, sys
if sys.argv[1] == "mlflow":
    import mlflow
from {{ cookiecutter.module_name }} import deferred
import mlflow

def standing_in():
    return isinstance(sys.modules["mlflow.gateway"], deferred.Deferred)

seen = {"stand_in_at_import": standing_in()}
held = mlflow.gateway  # what `from mlflow import gateway` gave MLflow's own modules
from mlflow.gateway.constants import MLFLOW_GATEWAY_HEALTH_ENDPOINT
seen["stand_in_after_its_module"] = standing_in()
from mlflow.gateway import get_gateway_uri, set_gateway_uri
real = sys.modules["mlflow.gateway"]
seen["real_after_use"] = not isinstance(real, deferred.Deferred)
seen["one_package"] = mlflow.gateway is real and held.set_gateway_uri is set_gateway_uri
seen["its_module_on_it"] = real.constants is sys.modules["mlflow.gateway.constants"]
set_gateway_uri("http://127.0.0.1:5000")
seen["uri"] = get_gateway_uri()
seen["names"] = sorted(name for name in dir(real) if not name.startswith("_"))
print(json.dumps(seen))
"""


def test_mlflows_gateway_loads_on_first_use_as_mlflow_would_load_it() -> None:
    deferred_gateway = _reported(GATEWAY, "package")
    mlflows_own = _reported(GATEWAY, "mlflow")
    assert deferred_gateway["stand_in_at_import"] is True
    assert deferred_gateway["stand_in_after_its_module"] is True  # a module, not the package
    assert mlflows_own["stand_in_at_import"] is False  # MLflow first: nothing is deferred
    for seen in (deferred_gateway, mlflows_own):
        assert seen["real_after_use"] is True
        assert seen["one_package"] is True
        assert seen["its_module_on_it"] is True
        assert seen["uri"] == "http://127.0.0.1:5000"
    assert deferred_gateway["names"] == mlflows_own["names"]


def test_nothing_is_deferred_once_imported_or_when_not_a_package() -> None:
    from {{ cookiecutter.module_name }} import deferred

    assert "mlflow" in sys.modules  # imported by this suite
    assert deferred.defer("mlflow.gateway") is False
    assert deferred.defer("json.decoder") is False  # imported already
    assert deferred.defer("{{ cookiecutter.module_name }}_no_such_package.part") is False
    assert deferred.defer("this_module_does_not_exist") is False


# The drawing process is forked only from a single-threaded process (figures._can_fork), and this
# suite's process may hold other threads by now (Prefect's, a test server's): the fork is checked
# in a fresh interpreter. Each scenario prints what it saw as JSON.
DRAWING = """
import json, os, sys, time
from pathlib import Path
import numpy as np, pandas as pd
from {{ cookiecutter.module_name }} import figures

out, scenario, task = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
if task == "classification":
    y_test, predicted = pd.Series(["a", "b", "a", "b"]), np.array(["a", "b", "b", "b"])
else:
    y_test, predicted = pd.Series([1.0, 2.0, 3.0]), np.array([1.1, 1.9, 3.2])
here, draw, marker = os.getpid(), figures.write_figures, out / "child.pid"

def recording(*args):
    if scenario == "child fails" and os.getpid() != here:
        raise RuntimeError("the child cannot draw")
    if scenario == "left early":
        marker.write_text(str(os.getpid()))
        time.sleep(60)
    paths = draw(*args)
    (out / f"drawn-by-{os.getpid()}").touch()
    return paths

figures.write_figures = recording
seen = {"parent": here}
if scenario == "left early":
    started = time.monotonic()
    try:
        with figures.drawing(task, y_test, predicted, out):
            while not marker.exists() and time.monotonic() - started < 30:
                time.sleep(0.01)
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        seen["left_after_s"] = time.monotonic() - started
    child = int(marker.read_text())
    try:
        os.kill(child, 0)
        seen["child_left"] = True
    except ProcessLookupError:
        seen["child_left"] = False
else:
    with figures.drawing(task, y_test, predicted, out) as drawn:
        paths = drawn()
    seen["paths"] = [p.name for p in paths if p.stat().st_size > 0]
    seen["drawn_by"] = sorted(int(p.name.split("-")[-1]) for p in out.glob("drawn-by-*"))
print(json.dumps(seen))
"""


def _drawing(tmp_path: Path, scenario: str, task: str = "classification") -> dict:
    return _reported(DRAWING, tmp_path, scenario, task)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_figures_are_drawn_by_another_process_while_the_caller_goes_on(
    tmp_path: Path, task: str
) -> None:
    seen = _drawing(tmp_path, "plain", task)
    assert seen["paths"] == list(figures.FIGURES[task])
    assert len(seen["drawn_by"]) == 1
    assert seen["drawn_by"] != [seen["parent"]]


def test_figures_are_drawn_here_when_the_drawing_process_fails(tmp_path: Path) -> None:
    seen = _drawing(tmp_path, "child fails")
    assert seen["paths"] == ["confusion_matrix.png"]
    assert seen["drawn_by"] == [seen["parent"]]


def test_leaving_the_block_early_stops_the_drawing_process(tmp_path: Path) -> None:
    seen = _drawing(tmp_path, "left early")
    assert seen["left_after_s"] < 30
    assert seen["child_left"] is False  # killed and reaped: no process left behind


def test_with_other_threads_the_figures_are_drawn_in_this_process(tmp_path: Path) -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        y_test, predicted = pd.Series(["a", "b", "a"]), np.array(["a", "b", "b"])
        with figures.drawing("classification", y_test, predicted, tmp_path) as drawn:
            paths = drawn()
    finally:
        stop.set()
        other.join()
    assert [p.name for p in paths] == ["confusion_matrix.png"]
    assert paths[0].stat().st_size > 0


# The monitor report's plots in a fresh interpreter (single-threaded, so the fork is allowed):
# argv[1] is a folder, argv[2] "fork" or "here" (the fork refused). Prints what it saw as JSON.
MONITOR_PLOTS = """
import hashlib, json, os, sys
from pathlib import Path
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np, pandas as pd
from {{ cookiecutter.module_name }} import figures
from {{ cookiecutter.module_name }}.stages import monitor

out, how = Path(sys.argv[1]), sys.argv[2]
if how == "here":
    figures._can_fork = lambda: False
draw = monitor._png

def recording(plt, name, *rest):
    (out / f"{name}-by-{os.getpid()}").touch()
    return draw(plt, name, *rest)

monitor._png = recording
rng = np.random.default_rng(0)
counts = {"kind": "categorical", "counts": {"a": 5, "b": 3}}
plots = [("predictions", counts, pd.Series(list("abba")))]
for i in range(4):
    numbers = {"kind": "numeric", "values": rng.normal(size=200).tolist()}
    plots.append((f"x{i}", numbers, pd.Series(rng.normal(size=50))))
pngs = monitor._pngs(plt, plots)
print(json.dumps({
    "pid": os.getpid(),
    "digests": [hashlib.sha256(png).hexdigest() for png in pngs],
    "png": all(png.startswith(b"\\x89PNG") for png in pngs),
    "drawn_by": {p.name.split("-by-")[0]: int(p.name.split("-by-")[1]) for p in out.iterdir()},
}))
"""


def test_the_monitor_report_draws_half_its_plots_aside_and_the_same_pictures(
    tmp_path: Path,
) -> None:
    (tmp_path / "fork").mkdir()
    (tmp_path / "here").mkdir()
    aside = _reported(MONITOR_PLOTS, tmp_path / "fork", "fork")
    here = _reported(MONITOR_PLOTS, tmp_path / "here", "here")
    assert aside["png"]
    assert here["png"]
    assert aside["digests"] == here["digests"]  # byte for byte, in the same order
    assert len(set(here["digests"])) == 5
    assert set(here["drawn_by"].values()) == {here["pid"]}
    by_parent = {name for name, pid in aside["drawn_by"].items() if pid == aside["pid"]}
    assert by_parent == {"predictions", "x0"}  # the first half; the rest by the forked process
    assert len(set(aside["drawn_by"].values())) == 2


@pytest.fixture
def command_line(monkeypatch: pytest.MonkeyPatch):
    """process.begin() as `python -m` calls it, undone afterwards for the rest of the suite."""
    monkeypatch.setattr(process._State, "command_line", False)
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    yield
    gc.unfreeze()
    gc.enable()


def test_a_command_line_process_imports_without_the_collector_and_then_collects(
    command_line,
) -> None:
    process.begin()
    assert not gc.isenabled()
    assert os.environ["ARROW_DEFAULT_MEMORY_POOL"] == "system"  # freed Arrow memory goes back
    with process.loaded():
        assert not gc.isenabled()
        import {{ cookiecutter.module_name }}.jobs  # noqa: F401
    # then: what was loaded is frozen (never walked again), new garbage is collected as usual
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
    assert process.end(3) == 3


def test_code_that_imports_the_package_keeps_its_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process._State, "command_line", False)
    frozen = gc.get_freeze_count()
    with process.loaded():
        pass
    process.ready()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
    assert process.end(0) == 0
    assert gc.get_freeze_count() == frozen


# A command-line process (process.begin) that leaves with exit code 3 through process.leave:
# argv[1] is a folder for what it leaves behind, argv[2] the scenario.
LEAVING = """
import atexit, logging, os, sys, tempfile, threading, time
from pathlib import Path

from {{ cookiecutter.module_name }} import process

out, scenario = Path(sys.argv[1]), sys.argv[2]
process.begin()
exit_now = os._exit


def skipping_the_teardown(code):  # what process.leave calls when it may
    (out / "skipped teardown").write_text(str(code))
    exit_now(code)


os._exit = skipping_the_teardown
atexit.register(lambda: (out / "atexit").write_text("ran"))
scratch = tempfile.TemporaryDirectory()  # removed by its exit-time finalizer
(out / "scratch").write_text(scratch.name)
logging.basicConfig(filename=out / "log", level=logging.INFO)
logging.info("logged")
sys.stdout.write("x" * 1_000_000)  # still buffered: stdout is a pipe
sys.stderr.write("to stderr")
if scenario == "thread":
    late = out / "thread"
    threading.Thread(target=lambda: (time.sleep(0.5), late.write_text("done"))).start()
if scenario == "closed stdout":
    sys.stdout.close()
process.leave(3)
"""


def _leave(tmp_path: Path, scenario: str) -> subprocess.CompletedProcess:
    return _script(LEAVING, tmp_path, scenario)


def test_leaving_runs_the_exit_handlers_flushes_and_skips_the_teardown(tmp_path: Path) -> None:
    done = _leave(tmp_path, "plain")
    assert done.returncode == 3
    assert done.stdout == "x" * 1_000_000
    assert done.stderr == "to stderr"
    assert (tmp_path / "skipped teardown").read_text() == "3"
    assert (tmp_path / "atexit").read_text() == "ran"
    assert "logged" in (tmp_path / "log").read_text()
    assert not Path((tmp_path / "scratch").read_text()).exists()


@pytest.mark.parametrize("scenario", ["thread", "closed stdout"])
def test_leaving_exits_as_usual_when_a_thread_runs_or_a_stream_is_closed(
    tmp_path: Path, scenario: str
) -> None:
    done = _leave(tmp_path, scenario)
    assert done.returncode == 3
    assert done.stderr == "to stderr"
    assert not (tmp_path / "skipped teardown").exists()  # the usual exit
    assert (tmp_path / "atexit").read_text() == "ran"
    assert not Path((tmp_path / "scratch").read_text()).exists()
    if scenario == "thread":
        assert (tmp_path / "thread").read_text() == "done"  # waited for, as a normal exit does
        assert done.stdout == "x" * 1_000_000


def test_a_command_exits_with_its_code_and_its_whole_output(project: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "{{ cookiecutter.module_name }}", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=project)

    wrote = cli("data")
    assert wrote.returncode == 0
    assert wrote.stdout.startswith("wrote ")
    assert wrote.stdout.endswith(".csv\n")
    bad = cli("--config", "missing.yaml", "validate")
    assert bad.returncode == 2
    assert "missing.yaml: file not found" in bad.stderr
