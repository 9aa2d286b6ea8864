"""Where a model comes from: the commit being built, a digest of the settings it used."""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from typing import Any

from .config import Settings
from .errors import UsageError
from .schema import Schema


@dataclass(frozen=True)
class Commit:
    """The commit being built: GITHUB_SHA in Actions, else git's HEAD; None outside git (or
    before the first commit). ``dirty``: no commit describes the tree -- there is none, or
    tracked files differ from it (untracked files, e.g. the data of a DVC project, do not count)."""

    sha: str | None
    dirty: bool

    def tags(self) -> dict[str, str]:
        """Tags of a run or version built here: no ``git_sha`` at all when there is no commit."""
        return ({"git_sha": self.sha} if self.sha else {}) | {"git_dirty": str(self.dirty).lower()}


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip()


def current_commit() -> Commit:
    sha = os.environ.get("GITHUB_SHA") or _git("rev-parse", "--verify", "--quiet", "HEAD")
    changed = _git("status", "--porcelain", "--untracked-files=no")
    return Commit(sha or None, not sha or bool(changed))


def allow_dirty_from_env() -> bool:
    """ALLOW_DIRTY=1 (``make pipeline ALLOW_DIRTY=1``): --allow-dirty for every registering step."""
    return os.environ.get("ALLOW_DIRTY", "") not in ("", "0")


def check_provenance(commit: Commit, allow_dirty: bool) -> None:
    """Outside CI, register only what a commit describes (UsageError), unless ``allow_dirty``:
    a version must say which code built it. CI builds the commit it checked out."""
    if allow_dirty or os.environ.get("CI", "").lower() in ("1", "true"):
        return
    if commit.sha is None:
        raise UsageError(
            "not registering: the project has no git commit to record (git init, git add -A, "
            "git commit), or pass --allow-dirty (ALLOW_DIRTY=1 with make)"
        )
    if commit.dirty:
        raise UsageError(
            f"not registering: files tracked by git changed since commit {commit.sha[:12]} "
            "(git status); commit them, or pass --allow-dirty (ALLOW_DIRTY=1 with make)"
        )


def config_sha256(settings: Settings, schema: Schema) -> str:
    """Digest of the settings and the schema as validated (comments and layout do not count)."""
    text = settings.model_dump_json() + schema.model_dump_json()
    return hashlib.sha256(text.encode()).hexdigest()


def commit_label(record: dict[str, Any]) -> str:
    """The commit of a training record as a report shows it."""
    if not record.get("git_sha"):
        return "no git commit"
    dirty = " with uncommitted changes" if record.get("git_dirty") == "true" else ""
    return f"commit `{record['git_sha'][:12]}`{dirty}"
