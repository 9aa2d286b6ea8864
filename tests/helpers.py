"""Bake the template and run commands in the result; shared by the template's tests."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Combo:
    """One supported answer set; ``id`` reads like the options it bakes."""

    task: str = "classification"
    data_versioning: str = "dvc"
    linting: str = "flake8+black+isort"
    serving: str = "none"
    docker: str = "n"
    orchestration: str = "none"
    python_version: str = "3.11"
    open_source_license: str = "MIT"

    @property
    def id(self) -> str:
        lint = "ruff" if self.linting == "ruff" else "flake8"
        docker = "docker" if self.docker == "y" else "nodocker"
        license_ = self.open_source_license.replace(" ", "-").lower()
        flow = "-prefect" if self.orchestration == "prefect" else ""
        return (
            f"{self.task}-{self.data_versioning}-{lint}-{self.serving}-{docker}{flow}"
            f"-py{self.python_version}-{license_}"
        )

    @property
    def slug(self) -> str:
        """Short but unique per combination: editable installs share one venv."""
        parts = [
            self.task[:3],
            self.data_versioning,
            self.linting[:4],
            self.serving[:4],
            self.docker,
            *(["pf"] if self.orchestration == "prefect" else []),
        ]
        return "-".join(
            [*parts, self.python_version.replace(".", ""), self.open_source_license[:3]]
        ).lower()

    @property
    def module(self) -> str:
        return self.slug.replace("-", "_")

    def context(self) -> dict[str, str]:
        # A distinct name per combination keeps editable installs apart in the shared venv.
        return {
            "project_name": self.slug,
            "task": self.task,
            "data_versioning": self.data_versioning,
            "linting": self.linting,
            "serving": self.serving,
            "docker": self.docker,
            "orchestration": self.orchestration,
            "python_version": self.python_version,
            "open_source_license": self.open_source_license,
        }


def bake(output_dir: Path, context: dict[str, str]) -> Path:
    """Render the template with ``context`` into ``output_dir``; return the project path."""
    return Path(
        cookiecutter(
            str(TEMPLATE_DIR), no_input=True, extra_context=context, output_dir=str(output_dir)
        )
    )


def run(
    args: list[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: int = 900,
    input: str = "",
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing output; the caller asserts on returncode and output."""
    full_env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", **(env or {})}
    return subprocess.run(
        args,
        cwd=cwd,
        env=full_env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def files_under(root: Path) -> set[str]:
    """Every file below ``root`` as a POSIX path relative to it (not git's own, in .git/)."""
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def tool(name: str) -> str:
    """Path of a dev tool installed next to the running interpreter (requirements-dev.txt)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise FileNotFoundError(f"{name} not installed: pip install -r requirements-dev.txt")
    return str(path)


@functools.cache
def can_lock(python_version: str) -> bool:
    """Whether uv finds an interpreter for ``requires-python = ">=python_version"`` here, which
    `uv lock` needs: the post-generation hook writes uv.lock exactly then."""
    found = run(
        [tool("uv"), "python", "find", "--no-python-downloads", f">={python_version}"],
        cwd=TEMPLATE_DIR,
    )
    return found.returncode == 0


def tools_env() -> dict[str, str]:
    """PATH with the dev tools first, so actionlint finds shellcheck and make finds uv."""
    return {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


REGISTRY_QUERY = """
import json, sys
from mlflow.tracking import MlflowClient
client = MlflowClient(tracking_uri=sys.argv[1])
found = client.search_model_versions(f"name='{sys.argv[2]}'")
# Search results do not carry aliases: read each version on its own.
found = [client.get_model_version(sys.argv[2], v.version) for v in found]
print(json.dumps([{"version": int(v.version), "aliases": sorted(v.aliases), "tags": dict(v.tags)}
                  for v in sorted(found, key=lambda v: int(v.version))]))
"""


def registry_versions(
    venv: Path, tracking_uri: str, name: str, cwd: Path, env: dict[str, str] | None = None
) -> list[dict]:
    """Every version of ``name`` in the registry at ``tracking_uri`` (read with the credentials
    in ``env``), oldest first."""
    query = [str(venv / "bin" / "python"), "-c", REGISTRY_QUERY, tracking_uri, name]
    result = run(query, cwd=cwd, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
