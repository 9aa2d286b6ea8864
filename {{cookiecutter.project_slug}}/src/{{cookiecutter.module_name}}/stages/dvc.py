"""`data-pull` / `data-push`: training data versioned by DVC (.dvc file in git, bytes in a remote).

Credentials for the remote come from the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
for S3 and S3-compatible stores), never from the repository.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .. import data, lineage
from ..config import Settings
from ..errors import DataError, UsageError
from ..schema import Schema

NO_REMOTE = "no DVC remote is configured: dvc remote add -d storage s3://<bucket>/<prefix>"


def _dvc(*args: str) -> subprocess.CompletedProcess[str]:
    beside = Path(sys.executable).parent / "dvc"
    command = str(beside) if beside.exists() else shutil.which("dvc")
    if command is None:
        raise UsageError("dvc is not installed: run `make install`")
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    return subprocess.run([command, *args], capture_output=True, text=True, env=env, check=False)


def _first_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in (result.stderr + result.stdout).splitlines() if line.strip()]
    errors = [line.removeprefix("ERROR:").strip() for line in lines if line.startswith("ERROR")]
    return (errors or lines or [f"exit status {result.returncode}"])[0]


def _require_repository() -> None:
    # Outside a DVC repository DVC only says "No default remote set": name the real cause.
    if not any((folder / ".dvc").is_dir() for folder in [Path.cwd(), *Path.cwd().parents]):
        raise UsageError(f"dvc: {Path.cwd()} is not inside a DVC repository (no .dvc folder)")


def default_remote() -> str | None:
    """Name of the default DVC remote, or None when none is configured."""
    _require_repository()
    result = _dvc("remote", "default")
    if result.returncode == 0:
        return result.stdout.strip() or None
    if "No default remote" in result.stdout + result.stderr:
        return None
    raise UsageError(f"dvc: {_first_error(result)}")


def pull(settings: Settings) -> str:
    """Bring data.path to the version its .dvc file records, or say why it cannot.

    Untracked data is used as it is; at the sample's own path, missing untracked data becomes the
    bundled sample (with a notice saying so), so a fresh project stays green.
    """
    path = settings.data.path
    recorded = lineage.dvc_md5(path)
    if recorded is None:
        data.ensure(settings.task, path, why="{path} is not tracked by DVC yet (`make data-push`)")
        if not path.exists():
            raise DataError(f"{path}: not in the checkout, not tracked by DVC (`make data-push`)")
        return f"{path} is not tracked by DVC: using the file as it is"
    # One DVC process on this hot path (every model workflow run): no separate remote lookup.
    _require_repository()
    result = _dvc("pull", str(lineage.dvc_file(path)))
    output = result.stdout + result.stderr
    if "no default remote" in output.lower() or "no remote specified" in output:
        raise DataError(f"{lineage.dvc_file(path)} tracks the data but {NO_REMOTE}")
    if result.returncode != 0:
        raise DataError(f"dvc pull failed: {_first_error(result)}")
    # dvc pull can report "Everything is up to date" without restoring the file. The content is
    # checked where it matters: train records its md5 and register refuses one that differs.
    expected = lineage.dvc_size(path)
    if not path.is_file() or expected is not None and path.stat().st_size != expected:
        raise DataError(
            f"dvc pull did not restore {path} at md5 {recorded}: "
            "was it pushed to the remote (`make data-push`)?"
        )
    return f"pulled {path} (md5 {recorded}) from the DVC remote"


def push(settings: Settings) -> str:
    """Track data.path with DVC (`dvc add`) and upload it to the default remote."""
    path = settings.data.path
    if not path.is_file():
        raise DataError(f"{path}: file not found (data.path in config/pipeline.yaml)")
    if (remote := default_remote()) is None:
        raise UsageError(f"{NO_REMOTE} (see the README, Your own data)")
    for args in (["add", str(path)], ["push", str(lineage.dvc_file(path))]):
        result = _dvc(*args)
        if result.returncode != 0:
            raise DataError(f"dvc {args[0]} failed: {_first_error(result)}")
    return (
        f"pushed {path} (md5 {lineage.dvc_md5(path)}) to DVC remote {remote!r}: "
        f"commit {lineage.dvc_file(path)} so CI trains on this version"
    )


def pull_main(args: argparse.Namespace, settings: Settings, schema: Schema | None) -> str:
    return pull(settings)


def push_main(args: argparse.Namespace, settings: Settings, schema: Schema | None) -> str:
    return push(settings)
