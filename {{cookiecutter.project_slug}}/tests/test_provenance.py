"""A registered version names the commit that built it: outside CI, a tree no commit describes
is refused before any work (unless --allow-dirty, and then the version says so)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import edit_config
from mlflow.tracking import MlflowClient

from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.config import load_settings
from {{ cookiecutter.module_name }}.errors import EXIT_OK, EXIT_REGISTRY, EXIT_USAGE


@pytest.fixture
def local(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The scratch project on a laptop: no CI, no GITHUB_SHA, not (yet) a git repository."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("GITHUB_SHA", raising=False)
    monkeypatch.delenv("ALLOW_DIRTY", raising=False)
    assert main(["data"]) == 0
    return project


def _git(project: Path, *args: str) -> str:
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    return subprocess.run(
        ["git", *identity, *args], cwd=project, check=True, capture_output=True, text=True
    ).stdout.strip()


def _committed(project: Path) -> str:
    _git(project, "init", "--quiet")
    _git(project, "add", "config")  # the data stays untracked, as a DVC project's does
    _git(project, "commit", "--quiet", "-m", "first")
    return _git(project, "rev-parse", "HEAD")


def _versions() -> list:
    client = MlflowClient()
    return client.search_model_versions(f"name='{load_settings().registry.model_name}'")


def _runs(project: Path) -> int:
    if not (project / "mlflow.db").exists():
        return 0
    return len(MlflowClient().search_runs(experiment_ids=[], search_all_experiments=True))


def test_outside_git_the_pipeline_refuses_before_training(
    local: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pipeline"]) == EXIT_USAGE

    error = capsys.readouterr().err.strip()
    assert error.startswith("error: not registering: the project has no git commit"), error
    assert "--allow-dirty" in error
    assert len(error.splitlines()) == 1
    assert _runs(local) == 0
    assert not (local / "reports" / "metrics.json").exists()


def test_allow_dirty_registers_without_a_commit_and_says_so(local: Path) -> None:
    assert main(["pipeline", "--allow-dirty"]) == EXIT_OK

    (version,) = _versions()
    assert "git_sha" not in version.tags  # never "unknown"
    assert version.tags["git_dirty"] == "true"
    assert MlflowClient().get_run(version.run_id).data.tags["git_dirty"] == "true"
    # A version built outside git cannot be promoted as if a commit had built it.
    assert main(["promote", "--git-sha", "unknown"]) == EXIT_REGISTRY
    assert main(["promote", "--version", str(version.version)]) == EXIT_OK


def test_a_clean_tree_registers_its_commit_and_a_changed_one_is_refused(
    local: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sha = _committed(local)

    assert main(["pipeline"]) == EXIT_OK
    (version,) = _versions()
    assert (version.tags["git_sha"], version.tags["git_dirty"]) == (sha, "false")

    edit_config(local, lambda raw: raw["data"].update(seed=raw["data"]["seed"] + 1))
    capsys.readouterr()
    assert main(["pipeline"]) == EXIT_USAGE
    error = capsys.readouterr().err.strip()
    assert f"files tracked by git changed since commit {sha[:12]}" in error, error
    assert len(_versions()) == 1

    monkeypatch.setenv("ALLOW_DIRTY", "1")  # what `make pipeline ALLOW_DIRTY=1` exports
    assert main(["pipeline"]) == EXIT_OK
    dirty = max(_versions(), key=lambda v: int(v.version))
    assert (dirty.tags["git_sha"], dirty.tags["git_dirty"]) == (sha, "true")
    # Built from that commit means built from it alone: the clean version is the one promoted.
    assert main(["promote", "--git-sha", sha]) == EXIT_OK
    production = MlflowClient().get_model_version_by_alias(version.name, "production")
    assert production.version == version.version


def test_register_alone_refuses_a_change_made_after_the_gate(
    local: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _committed(local)
    for stage in ("validate", "train", "gate"):
        assert main([stage]) == EXIT_OK, stage
    (local / "config" / "notes.txt").write_text("tracked, then changed\n")
    _git(local, "add", "config/notes.txt")

    capsys.readouterr()
    assert main(["register"]) == EXIT_USAGE
    assert "changed since commit" in capsys.readouterr().err
    assert _versions() == []


def test_ci_builds_the_commit_it_checked_out(local: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("GITHUB_SHA", "c" * 40)

    assert main(["pipeline"]) == EXIT_OK
    (version,) = _versions()
    assert (version.tags["git_sha"], version.tags["git_dirty"]) == ("c" * 40, "false")
