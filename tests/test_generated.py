"""A generated project installs from scratch, as a user's first `make install` does.

Lint, the generated suite and the pipeline of installed projects are exercised on the team's own
data (tests/test_own_data.py: between its walk-throughs every task, linter, serving and docker
value) and inside the CI workflow (tests/test_workflows_act.py)."""

from __future__ import annotations

import re

import pytest

from tests.act import git
from tests.helpers import bake, registry_versions, run, tools_env

pytestmark = pytest.mark.slow


def test_fresh_make_install_creates_its_own_venv_and_lists_the_targets(tmp_path) -> None:
    # The user's path: no shared environment, `make install` builds .venv from scratch.
    project = bake(tmp_path, {"project_name": "Fresh Install"})
    result = run(["make", "install"], cwd=project, env=tools_env())
    assert result.returncode == 0, result.stdout + result.stderr
    check = run(
        [".venv/bin/python", "-c", "import fresh_install; print(fresh_install.__version__)"],
        cwd=project,
    )
    assert check.stdout.strip() == "0.1.0"
    listed = run(["make", "help"], cwd=project)
    assert listed.returncode == 0, listed.stderr
    targets = re.findall(r"^\s+(?:\x1b\[36m)?([\w-]+)", listed.stdout, flags=re.MULTILINE)
    assert {"install", "lint", "format", "test", "help", "pipeline"} <= set(targets)

    # pre-commit as the README says, offline: local hooks running the venv's own linters.
    offline = {
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "https_proxy": "http://127.0.0.1:9",
        "http_proxy": "http://127.0.0.1:9",
        "PIP_NO_INDEX": "1",
    }
    hooks = run([".venv/bin/pre-commit", "run", "--all-files"], cwd=project, env=offline)
    assert hooks.returncode == 0, hooks.stdout + hooks.stderr
    for hook in ["trim trailing whitespace", "check yaml", "flake8", "black", "isort"]:
        assert re.search(rf"^{hook}\.+Passed$", hooks.stdout, flags=re.MULTILINE), hook

    # The first pipeline on a laptop (not CI) registers the commit the post-gen hook made, and
    # `make promote` finds it from HEAD: the README's path, verbatim.
    laptop = {**tools_env(), "CI": "", "GITHUB_SHA": "", "GITHUB_ACTIONS": ""}
    pipeline = run(["make", "-s", "--no-print-directory", "pipeline"], cwd=project, env=laptop)
    assert pipeline.returncode == 0, pipeline.stdout + pipeline.stderr
    # Quiet and informative: one timed line per stage, MLflow's known noise silenced at source.
    stages = pipeline.stdout.splitlines()
    assert [line.split(maxsplit=1)[0] for line in stages] == [
        "validate:",
        "trained",
        "gate:",
        "registered",
    ], pipeline.stdout
    assert all(re.search(r"\(\d+\.\d s\)$", line) for line in stages), pipeline.stdout
    assert pipeline.stderr.splitlines() == [
        "notice: no data at data/raw/iris.csv: wrote the bundled sample there"
    ], pipeline.stderr
    promoted = run(["make", "promote"], cwd=project, env=laptop)
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    (version,) = registry_versions(
        project / ".venv", f"sqlite:///{project / 'mlflow.db'}", "fresh-install", cwd=project
    )
    assert version["tags"]["git_sha"] == git(project, "rev-parse", "HEAD")
    assert version["tags"]["git_dirty"] == "false"
    assert version["aliases"] == ["production", "staging"]
