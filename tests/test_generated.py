"""Generated projects: their own make targets install, lint clean and pass their tests."""

from __future__ import annotations

import re

import pytest

from tests.helpers import Combo, bake, run, tools_env

pytestmark = pytest.mark.slow

# Representative combinations: between them every task, linter, serving and docker value.
REPRESENTATIVE = [
    Combo(task="classification", linting="flake8+black+isort", serving="none", docker="n"),
    Combo(task="regression", linting="ruff", serving="fastapi", docker="y"),
]


@pytest.fixture(scope="module", params=REPRESENTATIVE, ids=lambda combo: combo.id)
def installed(request: pytest.FixtureRequest, install_project):
    return install_project(request.param)


def test_make_lint_has_zero_findings(installed) -> None:
    result = installed.make("lint")
    assert result.returncode == 0, result.stdout + result.stderr


def test_make_test_passes_with_coverage_floor(installed) -> None:
    result = installed.make("test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Required test coverage of 90" in result.stdout


def test_make_help_lists_documented_targets(installed) -> None:
    result = installed.make("help")
    assert result.returncode == 0, result.stderr
    listed = re.findall(r"^\s+(?:\x1b\[36m)?([\w-]+)", result.stdout, flags=re.MULTILINE)
    assert {"install", "lint", "format", "test", "help"} <= set(listed)


def test_fresh_make_install_creates_its_own_venv(tmp_path) -> None:
    # The user's path: no shared environment, `make install` builds .venv from scratch.
    project = bake(tmp_path, {"project_name": "Fresh Install"})
    result = run(["make", "install"], cwd=project, env=tools_env())
    assert result.returncode == 0, result.stdout + result.stderr
    check = run(
        [".venv/bin/python", "-c", "import fresh_install; print(fresh_install.__version__)"],
        cwd=project,
    )
    assert check.stdout.strip() == "0.1.0"
