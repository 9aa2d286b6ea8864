"""The reports folder: the JSON each stage leaves for the next, written whole, read back checked."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .config import Settings
from .errors import ConfigError, UsageError
from .files import atomic

# What each stage writes, in pipeline order: a stage deletes its own outputs and those of the
# stages after it before it starts, so no file from an earlier run is ever read as current.
STAGE_OUTPUTS = {
    "validate": ("validation.json",),
    "train": ("metrics.json", "figures"),
    "gate": ("gate.json", "report.md"),
}

# What each stage's JSON must hold for the next stage to read it.
REQUIRED_KEYS = {
    "train": ("run_id", "model_uri", "experiment_id", "metrics", "data_sha256", "config_sha256"),
    "gate": ("passed", "run_id"),
}
WRITTEN_BY = {"train": "metrics.json", "gate": "gate.json"}


def check_writable(settings: Settings) -> None:
    """The reports folder must be writable before a stage spends time on work it cannot save."""
    path = settings.reports_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise ConfigError(f"reports_dir: cannot write to {path} ({error.strerror})") from None


def clear_outputs(settings: Settings, stage: str) -> None:
    stages = list(STAGE_OUTPUTS)
    for later in stages[stages.index(stage) :]:
        for name in STAGE_OUTPUTS[later]:
            path = settings.reports_dir / name
            if not path.is_dir():
                path.unlink(missing_ok=True)
                continue
            for child in path.iterdir():  # the committed .gitkeep stays: the tree stays clean
                if child.is_dir():
                    shutil.rmtree(child)
                elif child.name != ".gitkeep":
                    child.unlink()


def write_text(path: Path, text: str) -> None:
    with atomic(path) as partial:
        partial.write_text(text, encoding="utf-8")


def write_json(path: Path, body: dict[str, Any]) -> None:
    write_text(path, json.dumps(body, indent=2) + "\n")


def read_json(settings: Settings, producer: str) -> dict[str, Any]:
    """The JSON ``make <producer>`` wrote (train: metrics.json, gate: gate.json); UsageError
    saying which target to run when it is missing, truncated or edited."""
    path = settings.reports_dir / WRITTEN_BY[producer]
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path} not found: run `make {producer}` first") from None
    except (OSError, ValueError):  # unreadable, not UTF-8, truncated or not JSON
        body = None
    if not isinstance(body, dict) or any(key not in body for key in REQUIRED_KEYS[producer]):
        raise UsageError(
            f"{path} is not what `make {producer}` writes (truncated or edited?): "
            f"run `make {producer}` again"
        )
    return body
