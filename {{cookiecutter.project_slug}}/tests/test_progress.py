"""Progress of long steps: on a terminal only, never in captured output, logs or CI."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import DATA_PATH, TASK

from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.config import MonitoringSettings
from {{ cookiecutter.module_name }}.core import drift

PROGRESS = {
    # command -> what its progress shows
    "validate": [f"\rreading {DATA_PATH}: ", "\rvalidating against the schema: "],
    "tune": ["Fitting 3 folds for each of 3 candidates", "[CV 1/3] END", "[CV 3/3] END"],
}
COMMAND = [sys.executable, "-m", "{{ cookiecutter.module_name }}"]


def _environment(ci: bool) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if key != "CI"}
    return environment | ({"CI": "true"} if ci else {})


def _in_a_terminal(args: list[str], cwd: Path, environment: dict[str, str]) -> str:
    """What a person at a terminal sees: the command run with stdin, stdout and stderr on a
    pseudo-terminal. (The terminal itself turns each "\\n" into "\\r\\n".)"""
    reader, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            args, cwd=cwd, env=environment, stdin=terminal, stdout=terminal, stderr=terminal
        )
    finally:
        os.close(terminal)
    seen = []
    while True:
        try:
            chunk = os.read(reader, 65536)
        except OSError:  # the command closed the terminal (EIO)
            break
        if not chunk:
            break
        seen.append(chunk)
    os.close(reader)
    assert process.wait(timeout=300) == 0, b"".join(seen).decode(errors="replace")
    return b"".join(seen).decode(errors="replace")


@pytest.fixture
def sample(project: Path) -> Path:
    assert main(["data"]) == 0
    return project


@pytest.mark.parametrize("command", sorted(PROGRESS))
def test_a_terminal_sees_progress_and_captured_output_none(sample: Path, command: str) -> None:
    seen = _in_a_terminal([*COMMAND, command], sample, _environment(ci=False))
    for shown in PROGRESS[command]:
        assert shown in seen, (shown, seen)

    captured = subprocess.run(
        [*COMMAND, command],
        cwd=sample,
        env=_environment(ci=False),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert captured.returncode == 0, captured.stderr
    output = captured.stdout + captured.stderr
    assert "\r" not in output
    for shown in PROGRESS[command]:
        assert shown.lstrip("\r") not in output


def test_ci_sees_no_progress_even_on_a_terminal(sample: Path) -> None:
    seen = _in_a_terminal([*COMMAND, "validate"], sample, _environment(ci=True))

    assert "data valid" in seen
    assert "\r\n" in seen  # the terminal's line ends ...
    assert "\r" not in seen.replace("\r\n", "\n")  # ... and no other carriage return
    assert "reading " not in seen


def test_monitoring_reports_each_tested_column() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": ["x", "y", "x", "y"]})
    dtypes = {"a": "float", "b": "str"}
    task = TASK
    reference = drift.profile(dtypes, frame, lambda rows: [0] * len(rows), task, 10, 0)
    tested = []

    drift.compare(reference, frame, [0] * 4, MonitoringSettings(), tested=tested.append)

    assert tested == [1, 2]
