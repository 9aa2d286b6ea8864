"""`refresh`: append newly labelled rows to the training data, validated before it is replaced."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from .. import data
from ..config import Settings
from ..errors import DataError
from ..files import atomic
from ..schema import Schema
from .validate import check_training_data, read_training_data


def main(args: argparse.Namespace, settings: Settings, schema: Schema) -> str:
    return refresh(settings, schema, args.input)


def refresh(settings: Settings, schema: Schema, source: Path) -> str:
    """Append the labelled rows of ``source`` to the training data (data.path), except rows it
    already has; the result must pass validation before it replaces the file."""
    dtypes = {name: rule.dtype for name, rule in schema.columns.items()}
    current = read_training_data(settings, schema)
    new = data.read_csv(source, settings.data.csv, dtypes, setting="--input")
    if missing := [name for name in schema.columns if name not in new.columns]:
        raise DataError(f"{source}: missing column(s) of the schema: {', '.join(missing)}")
    new = new[list(current.columns)]
    new = new[new[settings.data.target].notna()]
    # Rows the training data already has are not added again (running it twice adds nothing);
    # the training data itself is kept as it is, repeats and all.
    known = pd.util.hash_pandas_object(current, index=False)
    new = new[~pd.util.hash_pandas_object(new, index=False).isin(known).to_numpy()]
    merged = pd.concat([current, new], ignore_index=True)
    added = len(new)
    check_training_data(settings, merged, schema)
    csv = settings.data.csv
    with atomic(settings.data.path) as partial:
        merged.to_csv(partial, index=False, sep=csv.sep, decimal=csv.decimal, encoding=csv.encoding)
    return f"{settings.data.path}: {len(merged)} rows ({added} new from {source})"
