"""Session-wide fixtures: one virtual environment shared by every generated project."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from filelock import FileLock

from tests.helpers import TEMPLATE_DIR, Combo, bake, run, tool, tools_env
from tests.team_stack import TeamStack

# The post-generation hook of every render (bake() runs it in this process) locks with the uv
# it finds on PATH: the dev tools' own. github.com is unreachable here, so uv is told not to try
# downloading a Python it lacks (a render for one then has no uv.lock, as tests/test_lock.py
# expects) rather than retrying for seconds first.
os.environ.update(tools_env())
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")

# Persistent across runs so the generated projects' dependencies install once per machine;
# GENERATED_VENV points it elsewhere (CI uses a fresh one per clone anyway).
SHARED_VENV = Path(os.environ.get("GENERATED_VENV", TEMPLATE_DIR / ".cache" / "generated-venv"))


# Longest first: xdist hands tests out in collection order, so a long test collected last keeps
# one worker busy after the other has run out of work.
LONG_FIRST = (
    "test_workflows_act.py",
    "test_own_data.py",
    "test_bench.py",
    "test_tracking_server.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONG_FIRST.index(name) if name in LONG_FIRST else len(LONG_FIRST)

    items.sort(key=rank)


class Installed:
    """A baked project installed (editable) into the shared venv, ready for make targets."""

    def __init__(self, combo: Combo, path: Path) -> None:
        self.combo = combo
        self.path = path

    def make(self, *targets: str, env: dict[str, str] | None = None, timeout: int = 900):
        return run(
            ["make", *targets, f"VENV={SHARED_VENV}"],
            cwd=self.path,
            env={**tools_env(), **(env or {})},
            timeout=timeout,
        )


@pytest.fixture(scope="session")
def shared_venv() -> Path:
    SHARED_VENV.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{SHARED_VENV}.lock"):
        if not (SHARED_VENV / "bin" / "python").exists():
            result = run(
                [tool("uv"), "venv", "--quiet", "--python", sys.executable, str(SHARED_VENV)],
                cwd=TEMPLATE_DIR,
            )
            assert result.returncode == 0, result.stderr
    return SHARED_VENV


@pytest.fixture(scope="session")
def install_project(shared_venv: Path, tmp_path_factory: pytest.TempPathFactory):
    """Bake ``combo`` (named ``name``, default its slug) and ``make install`` it into the shared
    venv (serialised across workers)."""

    def _install(combo: Combo, name: str | None = None) -> Installed:
        # The project name is the distribution, module and registered-model name: one per test.
        context = combo.context() | ({"project_name": name} if name else {})
        project = Installed(combo, bake(tmp_path_factory.mktemp("gen"), context))
        with FileLock(f"{shared_venv}.lock"):
            result = project.make("install")
        assert result.returncode == 0, result.stdout + result.stderr
        return project

    return _install


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def team_stack(s3_server: str, tmp_path_factory: pytest.TempPathFactory):
    """The generated docker-compose.yml's tracking stack on the host (see tests/team_stack.py):
    MLflow with authentication on PostgreSQL, artifacts in S3; shared by the session."""
    root = tmp_path_factory.mktemp("team-stack")
    project = bake(root / "compose", Combo(docker="y").context() | {"project_name": "stack"})
    stack = TeamStack(project, root)
    try:
        stack.start(s3_server)
        yield stack
    finally:
        stack.stop()


def _wait_until_up(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"{url} did not become ready"
        time.sleep(0.3)


# Credentials the S3 stand-in accepts; tests hand them to DVC through the environment, as the
# generated workflows do from repository secrets.
S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test-key", "AWS_SECRET_ACCESS_KEY": "test-secret"}


def _lower(credentials: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in credentials.items()}


S3_BUCKET = "team-data"


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory):
    """An S3 API on 127.0.0.1 (moto's server mode) with the team's bucket, ``S3_BUCKET``."""
    import boto3

    root = tmp_path_factory.mktemp("s3")
    port = free_port()
    log_path = root / "moto.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [tool("moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(server, f"{url}/moto-api/", log_path)
        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1", **_lower(S3_CREDENTIALS))
        s3.create_bucket(Bucket=S3_BUCKET)
        yield url
        server.terminate()
        server.wait(timeout=30)
