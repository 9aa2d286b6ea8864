"""The predict-time contract: what the model was trained on, checked on every input it scores.

Built at training time from the schema and the training split, stored in the logged model's
metadata (MLmodel), so `make predict` and `/predict` need nothing but the registry.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import DataError
from ..schema import NUMERIC, Schema
from .parsing import listed, numbers_of, renamed, wrong_type

# Training categories are stored up to this many per column; beyond it unseen ones are not counted.
MAX_STORED_CATEGORIES = 1000


def build(schema: Schema, target: str, x_train: pd.DataFrame) -> dict[str, Any]:
    """Features (with the ranges and categories seen in training), id columns and every column
    the schema declares (an input may bring them; the model does not use all of them)."""
    features: dict[str, dict[str, Any]] = {}
    for name, rule in schema.features(target).items():
        entry: dict[str, Any] = {"dtype": rule.dtype, "nullable": rule.nullable}
        if rule.format:
            entry["format"] = rule.format
        values = x_train[name]
        if rule.dtype in NUMERIC and values.notna().any():
            numbers = pd.to_numeric(values)
            entry["min"], entry["max"] = float(numbers.min()), float(numbers.max())
        elif rule.dtype == "str":
            seen = values.dropna().astype(str).unique()
            if len(seen) <= MAX_STORED_CATEGORIES:
                entry["categories"] = sorted(seen.tolist())
        features[name] = entry
    return {"features": features, "ids": schema.names("id"), "columns": list(schema.columns)}


@dataclass
class Tally:
    """What checking a frame counted: undeclared columns, rows of unseen values per column, and
    values of the wrong type. The tallies of the chunks of one input add up (``+``) to the
    tally of the whole input, so its warnings and error are the same however it was read."""

    undeclared: list[str] = field(default_factory=list)
    # (column, "missing" | "outside" | "unseen") -> rows
    unseen: Counter[tuple[str, str]] = field(default_factory=Counter)
    # column -> [rows, what is wrong (with the first such value as an example)]
    wrong: dict[str, tuple[int, str]] = field(default_factory=dict)

    def __add__(self, other: Tally) -> Tally:
        wrong = dict(self.wrong)
        for name, (count, detail) in other.wrong.items():
            before, first = wrong.get(name, (0, detail))
            wrong[name] = (before + count, first)
        undeclared = self.undeclared + [n for n in other.undeclared if n not in self.undeclared]
        return Tally(undeclared, self.unseen + other.unseen, wrong)

    def error(self, contract: dict[str, Any]) -> DataError | None:
        """The error for the first column (in the contract's order) with wrong-typed values."""
        for name in contract["features"]:
            if name in self.wrong:
                count, detail = self.wrong[name]
                return DataError(f"column {name!r}: {detail} in {count} row(s)")
        return None

    def warnings(self, contract: dict[str, Any]) -> list[str]:
        lines = []
        if self.undeclared:
            lines.append(f"column(s) the model does not know, ignored: {listed(self.undeclared)}")
        for name, entry in contract["features"].items():
            if nulls := self.unseen[name, "missing"]:
                lines.append(f"{name}: {nulls} missing value(s), imputed")
            if outside := self.unseen[name, "outside"]:
                lines.append(
                    f"{name}: {outside} value(s) outside the training range "
                    f"[{entry['min']:g}, {entry['max']:g}]"
                )
            if unknown := self.unseen[name, "unseen"]:
                lines.append(f"{name}: {unknown} value(s) in categories not seen in training")
        return lines


@dataclass
class Checked:
    """A frame that meets the contract: the model's inputs, the id columns, and warnings."""

    features: pd.DataFrame
    ids: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)


def check(contract: dict[str, Any], frame: pd.DataFrame) -> Checked:
    """Fail (DataError naming the column) on missing columns and wrong types; count values the
    model has not seen in training (unknown categories, out-of-range numbers, missing values)
    and name the columns it does not know (ignored)."""
    inputs, tally = _examine(contract, frame)
    if error := tally.error(contract):
        raise error
    ids = [name for name in contract["ids"] if name in frame.columns]
    return Checked(inputs, frame[ids], tally.warnings(contract), tally)


def count(contract: dict[str, Any], frame: pd.DataFrame) -> Tally:
    """What ``check`` counts in ``frame``, wrong types included (DataError on missing columns)."""
    return _examine(contract, frame)[1]


def _examine(contract: dict[str, Any], frame: pd.DataFrame) -> tuple[pd.DataFrame, Tally]:
    features = contract["features"]
    # Contracts of models trained before the declared columns were stored: features and ids.
    known = set(contract.get("columns", [*features, *contract["ids"]]))
    undeclared = [name for name in frame.columns if name not in known]
    if missing := [name for name in features if name not in frame.columns]:
        hints = "; ".join(renamed(missing, undeclared))
        raise DataError(
            f"missing column(s) the model needs: {listed(missing)}" + f" ({hints})" * bool(hints)
        )
    tally = Tally(undeclared)
    inputs = frame[list(features)].copy()
    for name, entry in features.items():
        values = frame[name]
        parsed = numbers_of(values) if entry["dtype"] in NUMERIC else None
        wrong, detail = wrong_type(values, entry["dtype"], entry.get("format"), parsed)
        if wrong_rows := int(wrong.sum()):
            tally.wrong[name] = (wrong_rows, detail)
            continue
        if not entry["nullable"]:
            tally.unseen[name, "missing"] = int(values.isna().sum())
        if parsed is not None:
            # JSON and CSV may bring numbers as text ("5.1"): the model gets numbers.
            inputs[name] = parsed
        if "min" in entry:
            outside = (parsed < entry["min"]) | (parsed > entry["max"])
            tally.unseen[name, "outside"] = int(outside.sum())
        if "categories" in entry:
            present = values.dropna().astype(str)
            tally.unseen[name, "unseen"] = int((~present.isin(entry["categories"])).sum())
    return inputs, tally


# MLflow signature types → schema dtypes, for models logged before the contract existed.
SIGNATURE_DTYPES = {"double": "float", "float": "float", "long": "int", "integer": "int"}
SIGNATURE_DTYPES |= {"boolean": "bool", "datetime": "datetime"}


def from_signature(inputs: list[tuple[str, str]]) -> dict[str, Any]:
    """A contract from a model signature's (column, type) pairs: the columns and their types,
    every one nullable (a model logged without a contract promises no more)."""
    features = {
        name: {"dtype": SIGNATURE_DTYPES.get(kind, "str"), "nullable": True}
        for name, kind in inputs
    }
    return {"features": features, "ids": []}


def as_double(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its float32 columns (schema precision: single) as float64, for the
    signature: it promises what a CSV or JSON request brings (doubles, which MLflow refuses to
    narrow to float), and the model scores either."""
    import numpy as np

    single = [name for name, dtype in frame.dtypes.items() if dtype == np.float32]
    return frame.astype(dict.fromkeys(single, np.float64)) if single else frame
