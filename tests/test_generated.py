"""A generated project installs from scratch, as a user's first `make install` does.

Lint, the generated suite and the pipeline of installed projects are exercised on the team's own
data (tests/test_own_data.py: between its walk-throughs every task, linter, serving and docker
value) and inside the CI workflow (tests/test_workflows_act.py)."""

from __future__ import annotations

import re

import pytest

from tests.helpers import bake, run, tools_env

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
