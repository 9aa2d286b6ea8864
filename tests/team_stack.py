"""The generated docker-compose.yml's tracking stack, run on the host for the test session:
PostgreSQL 15 (a throw-away cluster), an S3 API (moto's server mode) and mlflow-server/start.sh
(`mlflow server --app-name basic-auth` with the alias guard), with the compose file's own flags
and environment; only host names and ports are mapped to 127.0.0.1."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from filelock import FileLock

from tests.helpers import TEMPLATE_DIR, run, tool

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SERVER_VENV = Path(os.environ.get("SERVER_VENV", TEMPLATE_DIR / ".cache" / "server-venv"))
# The compose file's variables the stack needs set (the others have defaults in the file).
REQUIREMENTS = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "mlflow-server" / "requirements.txt"
COMPOSE_ENV = {"MLFLOW_ADMIN_PASSWORD": "admin-password-for-tests", "MLFLOW_SECRET_KEY": "tests"}
ROLES = ("reader", "registrar", "promoter")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR:?error}` and `$$`."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if env.get(name):
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return arg or ""

    text = re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, text)
    return text.replace("$$", "$")


def server_venv() -> Path:
    """MLflow (the generated project's pin) + mlflow-server/requirements.txt, once per machine."""
    SERVER_VENV.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{SERVER_VENV}.lock"):
        if not (SERVER_VENV / ".installed").exists():
            pyproject = (
                TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "pyproject.toml"
            ).read_text()
            pin = re.search(r'"(mlflow==[^"]+)"', pyproject).group(1)
            uv = tool("uv")
            for args in (
                [
                    "venv",
                    "--quiet",
                    "--allow-existing",
                    "--python",
                    sys.executable,
                    str(SERVER_VENV),
                ],
                [
                    "pip",
                    "install",
                    "--quiet",
                    "--compile-bytecode",
                    "--python",
                    str(SERVER_VENV / "bin" / "python"),
                    pin,
                    "-r",
                    str(REQUIREMENTS),
                ],
            ):
                result = run([uv, *args], cwd=TEMPLATE_DIR, timeout=600)
                assert result.returncode == 0, result.stderr
            (SERVER_VENV / ".installed").touch()
    return SERVER_VENV


def _as_postgres(args: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: use the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@dataclass
class TeamStack:
    project: Path  # a baked project with docker: its docker-compose.yml and mlflow-server/
    root: Path
    processes: list[subprocess.Popen] = field(default_factory=list)
    uri: str = ""
    started_in: float = 0.0

    @property
    def admin(self) -> dict[str, str]:
        return {
            "MLFLOW_TRACKING_URI": self.uri,
            "MLFLOW_TRACKING_USERNAME": "admin",
            "MLFLOW_TRACKING_PASSWORD": COMPOSE_ENV["MLFLOW_ADMIN_PASSWORD"],
        }

    def start(self, s3_url: str) -> None:
        venv = server_venv()  # installed once per machine: not part of the start-up time
        began = time.monotonic()
        pg_port, port = _free_port(), _free_port()
        self._postgres(pg_port)
        services = self.compose["services"]
        server_dir = self.project / "mlflow-server"
        env = {**os.environ, **COMPOSE_ENV}
        mapping = {
            "@postgres:5432": f"@127.0.0.1:{pg_port}",
            "http://minio:9000": s3_url,
            "--host=0.0.0.0": "--host=127.0.0.1",
            "--port=5000": f"--port={port}",
        }

        def host(value: str) -> str:
            value = interpolate(str(value), env)
            for old, new in mapping.items():
                value = value.replace(old, new)
            return value

        command = [host(arg) for arg in services["mlflow"]["command"]]
        server_env = {
            name: host(value) for name, value in services["mlflow"]["environment"].items()
        }
        bucket = next(a for a in command if a.startswith("--artifacts-destination=s3://"))
        _create_bucket(s3_url, bucket.split("s3://")[1].split("/")[0], server_env)
        log = (self.root / "mlflow.log").open("w")
        self.processes.append(
            subprocess.Popen(
                ["sh", str(server_dir / "start.sh"), *command],
                env={
                    **os.environ,
                    **server_env,
                    "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
                    "MLFLOW_AUTH_CONFIG_PATH": str(self.root / "basic_auth.ini"),
                    "MLFLOW_DISABLE_TELEMETRY": "true",
                },
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        self.uri = f"http://127.0.0.1:{port}"
        _wait_for(self.processes[-1], f"{self.uri}/health", self.root / "mlflow.log")
        self.started_in = time.monotonic() - began

    @property
    def compose(self) -> dict:
        return yaml.safe_load((self.project / "docker-compose.yml").read_text())

    def _postgres(self, port: int) -> None:
        """A throw-away cluster with the compose file's user, password and database."""
        env = {**os.environ, **COMPOSE_ENV}
        postgres = {
            k: interpolate(str(v), env)
            for k, v in self.compose["services"]["postgres"]["environment"].items()
        }
        data = Path(tempfile.mkdtemp(prefix="pg-", dir="/tmp"))
        self.pg_dir = data
        (data / "pw").write_text(postgres["POSTGRES_PASSWORD"])
        if os.geteuid() == 0:
            shutil.chown(data, "postgres")
            shutil.chown(data / "pw", "postgres")
        cluster = data / "cluster"
        steps = [
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(cluster),
                "-U",
                postgres["POSTGRES_USER"],
                f"--pwfile={data / 'pw'}",
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                "-E",
                "UTF8",
            ],
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(cluster),
                "-l",
                str(data / "log"),
                "-w",
                "-o",
                f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off",
                "start",
            ],
            [
                str(PG_BIN / "createdb"),
                "-h",
                str(data),
                "-p",
                str(port),
                "-U",
                postgres["POSTGRES_USER"],
                postgres["POSTGRES_DB"],
            ],
        ]
        for args in steps:
            result = subprocess.run(_as_postgres(args), capture_output=True, text=True, check=False)
            assert result.returncode == 0, result.stdout + result.stderr

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
            process.wait(timeout=30)
        if getattr(self, "pg_dir", None):
            subprocess.run(
                _as_postgres(
                    [
                        str(PG_BIN / "pg_ctl"),
                        "-D",
                        str(self.pg_dir / "cluster"),
                        "-m",
                        "immediate",
                        "stop",
                    ]
                ),
                capture_output=True,
                check=False,
            )
            shutil.rmtree(self.pg_dir, ignore_errors=True)

    def provision(self, project: Path, venv: Path) -> dict[str, str]:
        """`roles` of ``project`` (run from its source with ``venv``): its reader, registrar and
        promoter; returns the workflow secrets that name them."""
        config = yaml.safe_load((project / "config" / "pipeline.yaml").read_text())
        module = tomllib.loads((project / "pyproject.toml").read_text())["project"]["name"].replace(
            "-", "_"
        )
        passwords = {f"MLFLOW_{r.upper()}_PASSWORD": f"{r}-password-for-tests" for r in ROLES}
        result = run(
            [str(venv / "bin" / "python"), "-m", module, "roles"],
            cwd=project,
            env={**self.admin, **passwords, "PYTHONPATH": str(project / "src")},
        )
        assert result.returncode == 0, result.stdout + result.stderr
        model = config["registry"]["model_name"]
        secrets = {"MLFLOW_TRACKING_URI": self.uri, **passwords}
        secrets |= {f"MLFLOW_{r.upper()}_USERNAME": f"{model}-{r}" for r in ROLES}
        return secrets


def role_env(secrets: dict[str, str], role: str) -> dict[str, str]:
    """The environment a job holding ``role``'s secrets gives `make`."""
    return {
        "MLFLOW_TRACKING_URI": secrets["MLFLOW_TRACKING_URI"],
        "MLFLOW_TRACKING_USERNAME": secrets[f"MLFLOW_{role.upper()}_USERNAME"],
        "MLFLOW_TRACKING_PASSWORD": secrets[f"MLFLOW_{role.upper()}_PASSWORD"],
    }


def _create_bucket(url: str, bucket: str, env: dict[str, str]) -> None:
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    s3.create_bucket(Bucket=bucket)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(process: subprocess.Popen, url: str, log: Path, timeout: float = 120) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"{url} did not become ready"
        time.sleep(0.2)
