"""Generated Make targets that need an argument name it and exit 2 before doing any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import bake, files_under, run


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Not installed and not a git repository: a usage error must come before either matters.
    return bake(tmp_path_factory.mktemp("usage"), {"project_name": "usage-errors", "git_init": "n"})


@pytest.mark.parametrize(
    ("target", "named"),
    [
        ("predict", "make predict: set INPUT, e.g. make predict INPUT=data/new.csv"),
        ("rollback", "make rollback: set TO, e.g. make rollback TO=1"),
        ("release-assets", "make release-assets: set VERSION, e.g. make release-assets VERSION=1"),
        ("promote", "make promote: set GIT_SHA or VERSION (no git commit to default to)"),
        ("version", "make version: set GIT_SHA (no git commit to default to)"),
    ],
)
def test_a_missing_argument_is_a_usage_error_before_any_work(
    project: Path, target: str, named: str
) -> None:
    before = files_under(project)

    result = run(["make", "--no-print-directory", target], cwd=project)

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""  # no recipe line ran
    assert result.stderr.splitlines()[0].startswith(named), result.stderr
    assert files_under(project) == before


def test_predict_writes_to_reports_unless_told(project: Path) -> None:
    dry = run(["make", "-n", "predict", "INPUT=new.csv"], cwd=project)
    assert '--output "reports/predictions.csv"' in dry.stdout, dry.stdout + dry.stderr
    told = run(["make", "-n", "predict", "INPUT=new.csv", "OUTPUT=out.csv"], cwd=project)
    assert '--output "out.csv"' in told.stdout
