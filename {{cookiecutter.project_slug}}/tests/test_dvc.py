"""data-push / data-pull with real DVC, a real git repository and a local folder as the remote."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA_PATH, PROJECT_ROOT, edit_config

from {{ cookiecutter.module_name }} import data, lineage
from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.errors import EXIT_DATA, EXIT_USAGE

DVC = str(Path(sys.executable).parent / "dvc")


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True)


@pytest.fixture
def repo(project: Path) -> Path:
    """The scratch project as a git + DVC repository of its own (not the project's remote)."""
    _run("git", "init", "-q", cwd=project)
    _run(DVC, "init", "-q", cwd=project)
    _run(DVC, "config", "core.analytics", "false", cwd=project)
    return project


def _add_remote(repo: Path) -> Path:
    remote = repo.parent / f"{repo.name}-remote"
    _run(DVC, "remote", "add", "-d", "storage", str(remote), cwd=repo)
    return remote


def test_push_then_pull_in_a_fresh_checkout_restores_the_same_bytes(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = _add_remote(repo)
    assert main(["data"]) == 0
    path = repo / DATA_PATH
    original = path.read_bytes()

    assert main(["data-push"]) == 0

    out = capsys.readouterr().out
    md5 = lineage.dvc_md5(path)
    assert md5 == lineage.digests(path)[1]
    assert f"pushed {DATA_PATH} (md5 {md5}) to DVC remote 'storage'" in out
    assert any(remote.rglob("*")), "nothing reached the remote"
    # A fresh checkout has the .dvc file but neither the data nor DVC's cache.
    path.unlink()
    shutil.rmtree(repo / ".dvc" / "cache")

    assert main(["data-pull"]) == 0

    assert path.read_bytes() == original
    assert f"pulled {DATA_PATH} (md5 {md5})" in capsys.readouterr().out


def test_pull_without_a_dvc_file_uses_the_sample_at_its_own_path_with_a_notice(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sample = data.SAMPLE_PATHS["{{ cookiecutter.task }}"]
    edit_config(repo, lambda raw: raw["data"].update(path=str(sample)))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")

    assert main(["data-pull"]) == 0

    captured = capsys.readouterr()
    assert sample.exists()
    assert "::notice title=Sample data::" in captured.out
    assert main(["data-pull"]) == 0
    assert "is not tracked by DVC: using the file as it is" in capsys.readouterr().out


def test_pull_of_untracked_missing_data_elsewhere_fails_in_one_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data-pull"]) == EXIT_DATA
    assert capsys.readouterr().err.strip() == (
        f"error: {DATA_PATH}: not in the checkout, not tracked by DVC (`make data-push`)"
    )


def test_tracked_data_without_a_remote_or_never_pushed_fails_closed(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data"]) == 0
    assert main(["data-push"]) == EXIT_USAGE
    assert "no DVC remote is configured" in capsys.readouterr().err

    path = repo / DATA_PATH
    _run(DVC, "add", str(path), cwd=repo)  # tracked, but never pushed anywhere
    path.unlink()
    shutil.rmtree(repo / ".dvc" / "cache")
    assert main(["data-pull"]) == EXIT_DATA
    assert "no DVC remote is configured" in capsys.readouterr().err

    _add_remote(repo)
    assert main(["data-pull"]) == EXIT_DATA
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0
    assert error.startswith("error: dvc pull")
    assert not path.exists()


def test_outside_a_dvc_repository_says_so_in_one_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data"]) == 0
    assert main(["data-push"]) == EXIT_USAGE
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0
    assert error.startswith("error: dvc: ")
    assert error.endswith("is not inside a DVC repository (no .dvc folder)")


def test_the_shipped_dvc_config_keeps_analytics_off() -> None:
    assert "analytics = false" in (PROJECT_ROOT / ".dvc" / "config").read_text()
