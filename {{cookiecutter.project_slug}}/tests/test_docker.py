"""Docker files, checked statically (no Docker engine needed): compose spec and image shape."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_compose_file_matches_the_compose_spec() -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(ROOT / "docker-compose.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_mlflow_on_postgres_and_s3() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    command = " ".join(services["mlflow"]["command"])
    assert "--backend-store-uri=postgresql://" in command
    assert "--artifacts-destination=s3://" in command
    assert services["mlflow"]["environment"]["MLFLOW_S3_ENDPOINT_URL"] == "http://minio:9000"
    assert {"postgres", "minio", "create-bucket", "mlflow"} <= set(services)
    assert services["mlflow"]["ports"] == ["127.0.0.1:5000:5000"]
    assert services["mlflow"]["build"] == "mlflow-server"
    assert services["mlflow"]["environment"]["MLFLOW_AUTH_DATABASE_URI"].startswith("postgresql://")


def test_dockerfile_is_multi_stage_and_runs_as_non_root() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    stages = [line for line in lines if line.startswith("FROM ")]
    assert len(stages) >= 2
    assert "COPY --from=build /opt/venv /opt/venv" in lines
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users
    assert users[-1] not in ("root", "0")
