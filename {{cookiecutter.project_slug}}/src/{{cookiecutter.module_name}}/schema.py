"""The declared schema of the training data (config/schema.yaml): columns, types, roles, rules."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .files import read_yaml_model


class Frozen(BaseModel):
    """Base of every settings object: immutable, and unknown keys are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


NUMERIC = ("int", "float")
TEMPORAL = ("date", "datetime")


class ColumnRule(Frozen):
    # str: a category (one-hot/ordinal/target encoded); text: free text (TF-IDF);
    # date/datetime: parsed with `format` (ISO 8601 if none) into calendar features.
    dtype: Literal["int", "float", "str", "bool", "date", "datetime", "text"]
    # feature: a model input; target: what is predicted (data.target); id: carried into the
    # predictions, never an input; ignore: validated, not used; group: rows sharing a value stay
    # on one side of the train/test split.
    role: Literal["feature", "target", "id", "ignore", "group"] = "feature"
    nullable: bool = False
    # Every present value differs from the others (an id column's values, say).
    unique: bool = False
    min: float | None = None
    max: float | None = None
    allowed: list[str | float | int | bool] | None = None
    format: str | None = None  # strftime format of date/datetime values, e.g. "%d/%m/%Y"
    # float columns: held (and fitted on) as 32-bit floats, about 7 significant digits, for half
    # the memory; double keeps what the CSV says to 15-17 digits.
    precision: Literal["double", "single"] = "double"

    @model_validator(mode="after")
    def _consistent(self) -> ColumnRule:
        # YAML 1.1 reads unquoted yes/no/on/off/true/false as booleans: a text column declared
        # with allowed: [yes, no] would then reject every "yes" and "no" in the data.
        found = [value for value in self.allowed or [] if isinstance(value, bool)]
        if self.dtype != "bool" and found:
            raise ValueError(
                f"YAML read unquoted yes/no/on/off/true/false in `allowed` as booleans {found}: "
                'quote the values, e.g. allowed: ["yes", "no"]'
            )
        if self.dtype not in NUMERIC and (self.min is not None or self.max is not None):
            raise ValueError(f"min/max apply to int and float columns, not {self.dtype}")
        if self.format is not None and self.dtype not in TEMPORAL:
            raise ValueError(f"format applies to date and datetime columns, not {self.dtype}")
        if self.allowed is not None and self.dtype in (*TEMPORAL, "text"):
            raise ValueError(f"allowed does not apply to {self.dtype} columns")
        if self.precision != "double" and self.dtype != "float":
            raise ValueError(f"precision applies to float columns, not {self.dtype}")
        return self


class Schema(Frozen):
    """Declared schema of the training data (config/schema.yaml)."""

    min_rows: int = Field(default=1, ge=1)
    max_duplicate_rows: int = Field(default=0, ge=0)
    # Rows without a target value: dropped (counted in the validation report) or a violation.
    missing_target: Literal["drop", "fail"] = "drop"
    columns: dict[str, ColumnRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _roles(self) -> Schema:
        groups = self.names("group")
        if len(groups) > 1:
            raise ValueError(f"at most one column may have role group, found {groups}")
        if len(self.names("target")) > 1:
            raise ValueError(f"at most one column may have role target: {self.names('target')}")
        return self

    def single_precision(self) -> set[str]:
        """Float columns the schema lets the pipeline hold as 32-bit floats."""
        return {name for name, rule in self.columns.items() if rule.precision == "single"}

    def names(self, role: str) -> list[str]:
        """Columns with ``role``, in schema order."""
        return [name for name, rule in self.columns.items() if rule.role == role]

    def features(self, target: str) -> dict[str, ColumnRule]:
        """The model's inputs: columns with role feature, except the target."""
        return {
            name: rule
            for name, rule in self.columns.items()
            if rule.role == "feature" and name != target
        }


def load_schema(path: Path | str) -> Schema:
    """Read and validate the data schema; raise ConfigError if unusable."""
    return read_yaml_model(path, Schema)
