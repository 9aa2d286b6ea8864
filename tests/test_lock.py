"""uv.lock: the post-generation hook locks every extra (or says `make lock` when it cannot);
`make install`, the workflows and the Docker image install exactly what it pins -- offline from
a warm cache, with or without uv on PATH, never from a lock that pyproject.toml left behind."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import stat
import time
import tomllib
from pathlib import Path

import pytest
import yaml

from hooks import post_gen_project as post
from tests.act import git
from tests.helpers import TEMPLATE_DIR, Combo, bake, run, tool, tools_env

# Every extra there is: DVC (data), Prefect (flow), and the dev tools with ruff and FastAPI's.
EVERY_EXTRA = Combo(serving="fastapi", docker="y", linting="ruff", orchestration="prefect")
STALE = "make install: uv.lock does not match pyproject.toml: run make lock, then commit uv.lock"
NO_LOCK = "make install: no uv.lock: run make lock (needs the package index), then commit uv.lock"


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    context = EVERY_EXTRA.context() | {"project_name": "lock-all"}
    return bake(tmp_path_factory.mktemp("lock"), context)


def _extras(project: Path) -> set[str]:
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    return set(pyproject["project"]["optional-dependencies"])


def _lock_versions(project: Path) -> dict[str, set[str]]:
    """Package -> the versions uv.lock pins for it (more than one where the lock forks by
    Python version or platform)."""
    lock = tomllib.loads((project / "uv.lock").read_text())
    versions: dict[str, set[str]] = {}
    for package in lock["package"]:
        versions.setdefault(package["name"], set()).add(package["version"])
    return versions


def _installed(venv: Path) -> dict[str, str]:
    """Distribution -> version installed in ``venv`` (as uv names them: normalised)."""
    listed = run([tool("uv"), "pip", "freeze", "--python", str(venv / "bin" / "python")], cwd=venv)
    assert listed.returncode == 0, listed.stderr
    pins = [line.split("==") for line in listed.stdout.splitlines() if "==" in line]
    return {name.lower().replace("_", "-"): version for name, version in pins}


def _copy(project: Path, dest: Path) -> Path:
    shutil.copytree(project, dest, ignore=shutil.ignore_patterns(".venv", "mlflow.db"))
    return dest


def _make(project: Path, *args: str, env: dict[str, str] | None = None):
    return run(
        ["make", "--no-print-directory", *args], cwd=project, env={**tools_env(), **(env or {})}
    )


def _own_lines(stderr: str) -> list[str]:
    """stderr without make's own `make: *** [...] Error 1` trailer (`make[1]: ***` when the
    tests themselves run under make, as `make test` does)."""
    return [line for line in stderr.splitlines() if not re.match(r"make(\[\d+\])?: \*\*\*", line)]


def _add_dependency(project: Path) -> None:
    """A dependency edit as a person makes one: a new requirement, no `make lock`."""
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(
        text.replace('"requests>=2.31",', '"requests>=2.31",\n    "tabulate>=0.9",')
    )
    assert pyproject.read_text() != text


def test_render_commits_a_lock_of_every_extra(locked: Path) -> None:
    assert "uv.lock" in git(locked, "ls-files", "uv.lock")  # in the hook's first commit
    lock = tomllib.loads((locked / "uv.lock").read_text())
    (own,) = [package for package in lock["package"] if package["name"] == "lock-all"]
    extras = {"dev", "data", "flow", "dask"}
    assert set(own["metadata"]["provides-extras"]) == _extras(locked) == extras
    assert set(own["optional-dependencies"]) == extras
    check = run([tool("uv"), "lock", "--check", "--offline"], cwd=locked)
    assert check.returncode == 0, check.stderr


def test_make_install_syncs_exactly_the_locked_extras(locked: Path, tmp_path: Path) -> None:
    planned = _make(locked, "-n", "install")
    assert planned.returncode == 0, planned.stderr
    (sync,) = [line for line in planned.stdout.splitlines() if " sync " in line]
    args = shlex.split(sync)
    assert "--locked" in args
    # dask comes in through the dev extra (dev requires the project's own [dask]).
    assert {args[i + 1] for i, arg in enumerate(args) if arg == "--extra"} == _extras(locked) - {
        "dask"
    }
    # What that sync would do, resolved from uv.lock alone (no index, nothing written).
    dry = run(
        [tool("uv"), "sync", "--locked", "--dry-run", "--offline", "--all-extras"],
        cwd=locked,
        env={"UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv")},
    )
    assert dry.returncode == 0, dry.stderr
    assert "Would install" in dry.stderr
    assert not (tmp_path / "venv").exists()


def test_a_dependency_edit_without_make_lock_stops_make_install_in_one_line(
    locked: Path, tmp_path: Path
) -> None:
    project = _copy(locked, tmp_path / "project")
    _add_dependency(project)

    result = _make(project, "install", f"VENV={tmp_path / 'venv'}")

    assert result.returncode != 0
    assert _own_lines(result.stderr) == [STALE], result.stderr
    assert not (tmp_path / "venv").exists()  # nothing installed from the stale lock


def test_make_install_without_a_lock_says_make_lock_in_one_line(
    locked: Path, tmp_path: Path
) -> None:
    project = _copy(locked, tmp_path / "project")
    (project / "uv.lock").unlink()

    result = _make(project, "install", f"VENV={tmp_path / 'venv'}")

    assert result.returncode != 0
    assert _own_lines(result.stderr) == [NO_LOCK], result.stderr


def test_render_without_the_package_index_goes_on_and_says_make_lock(tmp_path: Path) -> None:
    # Offline with an empty cache: uv cannot resolve anything, at once.
    offline = {"UV_OFFLINE": "1", "UV_CACHE_DIR": str(tmp_path / "empty-cache")}
    args = [tool("cookiecutter"), "--no-input", "-o", str(tmp_path / "out"), str(TEMPLATE_DIR)]
    result = run([*args, "project_name=offline", "data_versioning=git"], cwd=tmp_path, env=offline)

    assert result.returncode == 0, result.stdout + result.stderr
    project = tmp_path / "out" / "offline"
    assert not (project / "uv.lock").exists()
    steps = result.stdout.splitlines()
    (lock_step,) = [line for line in steps if line.strip().startswith("make lock")]
    assert "not locked now:" in lock_step
    assert steps.index(lock_step) < next(i for i, s in enumerate(steps) if "make install" in s)
    assert git(project, "log", "--format=%s") == "Initial commit from cookiecutter-mlops-ci"


def test_the_hooks_lock_is_time_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An index that never answers, as uv would meet it behind a dead proxy.
    fake = tmp_path / "bin" / "uv"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nsleep 60\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(tmp_path)

    start = time.monotonic()
    reason = post.lock_dependencies(timeout=1)

    assert time.monotonic() - start < 10
    assert reason == "uv lock took longer than 1 s"
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert post.lock_dependencies() == "uv not found"


def test_next_steps_lead_with_make_lock_only_when_unlocked() -> None:
    answers = {
        "project_slug": "churn",
        "serving": "none",
        "orchestration": "none",
        "docker": "n",
        "data_versioning": "git",
    }
    unlocked = post.next_steps(answers, "git repository", True, "uv not found").splitlines()
    assert unlocked[3].strip().startswith("make lock")
    assert "uv not found" in unlocked[3]
    assert unlocked[4].strip().startswith("make install")
    locked = post.next_steps(answers, "git repository", True, None)
    assert "make lock" not in locked


def test_dependabot_updates_pyproject_and_the_lock_together(locked: Path) -> None:
    config = yaml.safe_load((locked / ".github" / "dependabot.yml").read_text())
    ecosystems = {(u["package-ecosystem"], u.get("directory")) for u in config["updates"]}
    assert ("uv", "/") in ecosystems
    assert ("pip", "/") not in ecosystems  # pip would bump pyproject.toml and leave uv.lock behind


def test_workflows_install_only_through_make_install_keyed_on_the_lock(locked: Path) -> None:
    installs = 0
    for path in sorted((locked / ".github" / "workflows").glob("*.yml")):
        workflow = yaml.safe_load(path.read_text())
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                script = step.get("run", "")
                assert "pip install" not in script, (path.name, step)
                assert "uv sync" not in script, (path.name, step)
                installs += "make install" in script
                if "setup-uv" in step.get("uses", "") and step["with"].get("enable-cache"):
                    assert step["with"]["cache-dependency-glob"] == "uv.lock", (path.name, step)
    assert installs >= 7  # ci (2), model (2), monitor (2), release (3)
    model = yaml.safe_load((locked / ".github" / "workflows" / "model.yml").read_text())
    on = model.get("on", model.get(True))  # YAML 1.1 reads the key `on` as true
    assert "uv.lock" in on["pull_request"]["paths"]
    assert "uv.lock" in on["push"]["paths"]


def _build_stage(project: Path) -> list[str]:
    """The lines of the Dockerfile's first stage (continuations joined)."""
    stage = (project / "Dockerfile").read_text().split("\nFROM ")[1]
    return stage.replace("\\\n", " ").splitlines()


def test_docker_image_installs_the_locked_runtime_dependencies(locked: Path) -> None:
    stage = _build_stage(locked)
    copied = [line.split()[1:-1] for line in stage if line.startswith("COPY ")]
    assert ["pyproject.toml", "uv.lock", "README.md", "LICENSE"] in copied
    (install,) = [line for line in stage if line.startswith("RUN ")]
    assert install.endswith("uv sync --locked --no-editable")


@pytest.mark.slow
def test_docker_build_stage_installs_from_the_lock_on_the_host(
    locked: Path, tmp_path: Path
) -> None:
    # The build stage's COPY and `uv sync` lines run on the host (no Docker engine here).
    src = tmp_path / "src"
    src.mkdir()
    stage = _build_stage(locked)
    for line in stage:
        if line.startswith("COPY "):
            *sources, dest = line.split()[1:]
            for source in sources:
                target = src / dest / (source if dest.endswith("/") else "")
                if (locked / source).is_dir():
                    shutil.copytree(locked / source, target)
                else:
                    shutil.copy2(locked / source, target)
    (install,) = [line for line in stage if line.startswith("RUN ")]
    sync = shlex.split(install.split("&&")[-1])
    env = {"UV_PROJECT_ENVIRONMENT": str(tmp_path / "opt-venv"), "UV_COMPILE_BYTECODE": "0"}

    built = run([tool("uv"), *sync[1:]], cwd=src, env=env)

    assert built.returncode == 0, built.stderr
    installed = _installed(tmp_path / "opt-venv")
    versions = _lock_versions(locked)
    assert {name: v for name, v in installed.items() if v not in versions.get(name, ())} == {}
    assert "mlflow" in installed
    assert "pytest" not in installed
    # The project itself, as a wheel: importable from the venv, not from the source tree.
    probe = "import lock_all; print(lock_all.__file__)"
    found = run([str(tmp_path / "opt-venv" / "bin" / "python"), "-c", probe], cwd=tmp_path)
    assert found.stdout.startswith(str(tmp_path / "opt-venv")), found.stdout + found.stderr


@pytest.mark.slow
def test_install_from_the_lock_offline_and_the_model_pins_the_locked_versions(
    locked: Path, tmp_path: Path
) -> None:
    project = _copy(locked, tmp_path / "project")
    warm = _make(project, "install", f"VENV={tmp_path / 'warm'}", "COMPILE=0")  # fills uv's cache
    assert warm.returncode == 0, warm.stdout + warm.stderr
    venv = tmp_path / "offline"

    offline = _make(project, "install", f"VENV={venv}", "COMPILE=0", env={"UV_OFFLINE": "1"})

    assert offline.returncode == 0, offline.stdout + offline.stderr
    installed = _installed(venv)
    versions = _lock_versions(project)
    assert {name: v for name, v in installed.items() if v not in versions.get(name, ())} == {}
    assert {"mlflow", "scikit-learn", "dvc", "prefect", "ruff", "pytest"} <= set(installed)

    # The model trained in that venv requires exactly what is installed, which the lock pins.
    env = {"UV_OFFLINE": "1"}
    trained = _make(project, f"VENV={venv}", "data", "train", "export-model", env=env)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    lines = (project / "models" / "candidate" / "requirements.txt").read_text().splitlines()
    pins = dict(line.split("==") for line in lines if "==" in line)
    assert {"mlflow", "scikit-learn", "pandas", "numpy"} <= set(pins)
    for name, version in pins.items():
        assert installed[name] == version, name
        assert version in versions[name], name


@pytest.mark.slow
def test_make_lock_after_a_dependency_edit_lets_make_install_go_on(
    locked: Path, tmp_path: Path
) -> None:
    project = _copy(locked, tmp_path / "project")
    _add_dependency(project)
    assert _own_lines(_make(project, "install", f"VENV={tmp_path / 'venv'}").stderr) == [STALE]

    relocked = _make(project, "lock")

    assert relocked.returncode == 0, relocked.stderr
    assert "tabulate" in _lock_versions(project)
    installed = _make(project, "install", f"VENV={tmp_path / 'venv'}", "COMPILE=0")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "tabulate" in _installed(tmp_path / "venv")


@pytest.mark.slow
def test_without_uv_on_path_pip_installs_the_pinned_uv_which_installs_the_lock(
    locked: Path, tmp_path: Path
) -> None:
    project = _copy(locked, tmp_path / "project")
    uv_dir = str(Path(tool("uv")).parent)
    path = os.pathsep.join(
        d
        for d in os.environ["PATH"].split(os.pathsep)
        if d != uv_dir and not Path(d, "uv").exists()
    )
    venv = tmp_path / "venv"

    result = run(["make", "install", f"VENV={venv}", "COMPILE=0"], cwd=project, env={"PATH": path})

    assert result.returncode == 0, result.stdout + result.stderr
    pin = next(
        dep
        for dep in tomllib.loads((project / "pyproject.toml").read_text())["project"][
            "optional-dependencies"
        ]["dev"]
        if dep.startswith("uv==")
    )
    assert run([str(venv / "bin" / "uv"), "--version"], cwd=project).stdout.split()[1] == pin[4:]
    installed = _installed(venv)
    installed.pop("pip")  # python -m venv's own
    versions = _lock_versions(project)
    assert {name: v for name, v in installed.items() if v not in versions.get(name, ())} == {}
    assert "mlflow" in installed
