"""Load config/pipeline.yaml into frozen, validated settings; secrets and URIs stay in the env."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import UsageError
from .files import atomic

DEFAULT_CONFIG = Path("config/pipeline.yaml")


class ConfigError(UsageError):
    """The configuration is missing or invalid; the message is one line naming the bad key."""


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


_Model = TypeVar("_Model", bound=_Settings)


class DataSettings(_Settings):
    path: Path
    schema_file: Path
    target: str = Field(min_length=1)
    test_size: float = Field(gt=0, lt=1)
    seed: int = 42


class PreprocessingSettings(_Settings):
    numeric_imputer: Literal["mean", "median", "most_frequent"] = "median"
    scale_numeric: bool = True


class ModelSettings(_Settings):
    estimator: str = Field(pattern=r"^sklearn(\.\w+)+$")
    params: dict[str, Any] = Field(default_factory=dict)
    preprocessing: PreprocessingSettings = PreprocessingSettings()


class Criterion(_Settings):
    metric: str
    threshold: float
    direction: Literal["higher", "lower"]
    # Tolerated drop against production, in the metric's own units; None: the gate's default.
    max_regression: float | None = Field(default=None, ge=0)


class GateSettings(_Settings):
    criteria: list[Criterion] = Field(min_length=1)
    max_regression: float = Field(default=0.0, ge=0)


class RegistrySettings(_Settings):
    model_name: str = Field(min_length=1)
    staging_alias: str = "staging"
    production_alias: str = "production"


class TrackingSettings(_Settings):
    experiment: str = Field(min_length=1)
    default_uri: str = "sqlite:///mlflow.db"


class Settings(_Settings):
    task: Literal["classification", "regression"]
    data: DataSettings
    model: ModelSettings
    gate: GateSettings
    registry: RegistrySettings
    tracking: TrackingSettings
    reports_dir: Path = Path("reports")


class ColumnRule(_Settings):
    dtype: Literal["int", "float", "str", "bool"]
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    allowed: list[str | float | int | bool] | None = None

    @model_validator(mode="after")
    def _no_yaml_booleans(self) -> ColumnRule:
        # YAML 1.1 reads unquoted yes/no/on/off/true/false as booleans: a text column declared
        # with allowed: [yes, no] would then reject every "yes" and "no" in the data.
        found = [value for value in self.allowed or [] if isinstance(value, bool)]
        if self.dtype != "bool" and found:
            raise ValueError(
                f"YAML read unquoted yes/no/on/off/true/false in `allowed` as booleans {found}: "
                'quote the values, e.g. allowed: ["yes", "no"]'
            )
        return self


class Schema(_Settings):
    """Declared schema of the training data (config/schema.yaml)."""

    min_rows: int = Field(default=1, ge=1)
    max_duplicate_rows: int = Field(default=0, ge=0)
    columns: dict[str, ColumnRule] = Field(min_length=1)


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    return f"{key}: {first['msg']}"


def _load(path: Path | str, model: type[_Model]) -> _Model:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(f"{path}: {_first_error(error)}") from None


def load_settings(path: Path | str = DEFAULT_CONFIG, check_schema: bool = True) -> Settings:
    """Read and validate the pipeline configuration; raise ConfigError if unusable.

    ``check_schema=False`` skips the cross-check with the schema file (for `schema`, which
    writes that file).
    """
    settings = _load(path, Settings)
    if check_schema and settings.data.target not in load_schema(settings.data.schema_file).columns:
        raise ConfigError(f"{path}: data.target: {settings.data.target!r} is not in the schema")
    return settings


def load_schema(path: Path | str) -> Schema:
    """Read and validate the data schema; raise ConfigError if unusable."""
    return _load(path, Schema)


def set_data_keys(path: Path | str, values: dict[str, str]) -> None:
    """Set keys of the ``data:`` block in place, keeping the file's comments and layout."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(r"data:\s*(#.*)?$", line)), None)
    if start is None:
        raise ConfigError(f"{path}: no `data:` block to update")
    for key, value in values.items():
        pattern = re.compile(rf"^(\s+){re.escape(key)}:.*$")
        for i in range(start + 1, len(lines)):
            if lines[i].strip() and not lines[i][0].isspace():
                raise ConfigError(f"{path}: data.{key} not found to update")
            if match := pattern.match(lines[i]):
                # JSON strings are valid YAML scalars that YAML never reads as anything else.
                lines[i] = f"{match.group(1)}{key}: {json.dumps(value)}\n"
                break
        else:
            raise ConfigError(f"{path}: data.{key} not found to update")
    with atomic(path) as partial:
        partial.write_text("".join(lines), encoding="utf-8")
