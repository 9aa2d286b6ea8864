"""mypy finds no error in the generated src/ of the option combinations that change it."""

from __future__ import annotations

import pytest

from tests.helpers import Combo, run

pytestmark = pytest.mark.slow

# src/ differs by task, DVC (stages/dvc.py, the data-pull/push commands), serving (serving.py)
# and orchestration (flow.py): the fullest and the barest of each task cover every file.
COMBOS = [
    Combo(task="classification", serving="fastapi", orchestration="prefect"),
    Combo(task="regression", data_versioning="git", linting="ruff"),
]


@pytest.mark.parametrize("combo", COMBOS, ids=lambda combo: combo.id)
def test_make_lint_type_checks_src_without_an_error(combo: Combo, install_project, shared_venv):
    project = install_project(combo)

    result = run([str(shared_venv / "bin" / "mypy")], cwd=project.path, timeout=900)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
