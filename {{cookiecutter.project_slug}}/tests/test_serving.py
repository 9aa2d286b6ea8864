"""The FastAPI app over real HTTP: a uvicorn server on 127.0.0.1 and an httpx client."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
import uvicorn

from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.config import load_settings
from {{ cookiecutter.module_name }}.errors import EXIT_REGISTRY, RegistryError
from {{ cookiecutter.module_name }}.serving import create_app

MODULE = "{{ cookiecutter.module_name }}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(project: Path):
    """Pipeline + promotion, then the app served by uvicorn in a background thread."""
    assert main(["data"]) == 0
    assert main(["pipeline"]) == 0
    assert main(["promote", "--version", "1"]) == 0
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        yield client
    server.should_exit = True
    thread.join(timeout=10)


def _rows(count: int) -> list[dict]:
    settings = load_settings()
    frame = pd.read_csv(settings.data.path).drop(columns=[settings.data.target])
    return frame.head(count).to_dict("records")


def test_health_names_the_production_version(served: httpx.Client) -> None:
    response = served.get("/health")
    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert response.json()["alias"] == "production"


def test_predict_scores_rows(served: httpx.Client) -> None:
    response = served.post("/predict", json={"rows": _rows(3)})
    assert response.status_code == 200
    body = response.json()
    assert len(body["predictions"]) == 3
    assert body["model_version"] == 1
    if load_settings().task == "classification":
        assert len(body["probabilities"]) == 3
    else:
        assert body["probabilities"] is None


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        ({"rows": []}, "at least 1 item"),
        ({"rows": [{"unknown": 1.0}]}, "missing column(s) the model needs"),
        ({"rowz": []}, "Field required"),
    ],
    ids=["no-rows", "missing-columns", "bad-body"],
)
def test_bad_requests_are_422(served: httpx.Client, payload: dict, detail: str) -> None:
    response = served.post("/predict", json=payload)
    assert response.status_code == 422
    assert detail in response.text


def test_true_where_a_number_belongs_is_422_naming_the_column(served: httpx.Client) -> None:
    rows = _rows(2)
    column = next(iter(rows[0]))
    rows[1][column] = True

    response = served.post("/predict", json={"rows": rows})

    assert response.status_code == 422
    assert f"column {column!r}: true/false is not a number" in response.text


def test_a_wrong_type_is_422_naming_the_column(served: httpx.Client) -> None:
    rows = _rows(2)
    column = next(iter(rows[0]))
    rows[1][column] = "not a number"
    response = served.post("/predict", json={"rows": rows})
    assert response.status_code == 422
    assert f"column '{column}': values that are not finite" in response.text
    assert "in 1 row(s)" in response.text


def test_values_unseen_in_training_are_counted_in_warnings(served: httpx.Client) -> None:
    rows = _rows(3)
    column = next(iter(rows[0]))
    rows[0][column] = 1e6
    response = served.post("/predict", json={"rows": rows})
    assert response.status_code == 200
    warnings = response.json()["warnings"]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{column}: 1 value(s) outside the training range [")
    assert len(response.json()["predictions"]) == 3


def test_a_renamed_field_is_422_naming_the_new_name(served: httpx.Client) -> None:
    rows = _rows(2)
    column = next(iter(rows[0]))
    for row in rows:
        row[f"{column}_new"] = row.pop(column)

    response = served.post("/predict", json={"rows": rows})

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail == (
        f"missing column(s) the model needs: {column!r} "
        f"({column!r} missing, '{column}_new' not declared: renamed?)"
    )


def test_an_extra_field_is_scored_without_it_and_named_in_warnings(served: httpx.Client) -> None:
    rows = [row | {"source": "web"} for row in _rows(3)]

    response = served.post("/predict", json={"rows": rows})

    assert response.status_code == 200
    assert response.json()["warnings"] == ["column(s) the model does not know, ignored: 'source'"]
    assert len(response.json()["predictions"]) == 3


def test_start_up_fails_without_a_production_model(project: Path) -> None:
    from fastapi.testclient import TestClient

    with pytest.raises(RegistryError, match="has alias `production`"), TestClient(create_app()):
        pass


def _serve(port: int) -> subprocess.Popen:
    """`make serve`'s command: python -m <module> serve."""
    command = [sys.executable, "-m", MODULE, "serve", "--port", str(port)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_serve_without_a_production_model_exits_5_in_one_line(project: Path) -> None:
    server = _serve(_free_port())
    _, stderr = server.communicate(timeout=120)

    assert server.returncode == EXIT_REGISTRY
    name = load_settings().registry.model_name
    assert stderr.strip().splitlines() == [f"error: no version of {name} has alias `production`"]


def test_the_example_input_is_a_request_the_served_model_answers(served: httpx.Client) -> None:
    assert main(["example-input", "--output", "reports/example-input.csv"]) == 0
    body = json.loads(Path("reports/example-input.json").read_text())

    response = served.post("/predict", json=body)

    assert response.status_code == 200, response.text
    assert len(response.json()["predictions"]) == len(body["rows"]) == 5


def test_serve_serves_production_until_stopped(served: httpx.Client) -> None:
    port = _free_port()
    server = _serve(port)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.communicate()
            assert time.monotonic() < deadline, "make serve did not answer"
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health.json()["version"] == 1
    finally:
        server.terminate()
        stdout, _ = server.communicate(timeout=60)
    assert f"version 1 (@production) at http://127.0.0.1:{port}" in stdout
