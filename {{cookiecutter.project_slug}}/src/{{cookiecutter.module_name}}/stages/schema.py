"""`schema`: infer config/schema.yaml from a CSV, so bringing your own data starts from its facts.

Every statistic is a vectorised pandas reduction over the columns (no per-value Python), so a
1M-row file takes seconds. The result is written with every text value quoted: YAML would read
an unquoted yes/no/on/off as a boolean.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .. import data
from ..config import Settings
from ..console import warning
from ..core.parsing import parse_dates
from ..core.split import rare_classes
from ..core.validation import duplicate_rows, validate
from ..errors import ConfigError, UsageError
from ..files import atomic
from ..schema import Schema, load_schema

# Text columns with at most this many distinct values get an `allowed` list.
MAX_ALLOWED = 20
# A classification target lists its classes up to this many.
MAX_CLASSES = 200
# Observed ranges are widened by this share of their span, so new data is not refused at once.
MARGIN = 0.1
PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# A column named like this whose values are all different is an identifier, not a feature.
ID_NAME = re.compile(r"(^|[_\W])(id|key|uuid)$", re.IGNORECASE)
# Text columns whose values are this long on average (with spaces) are free text, not categories.
TEXT_LENGTH = 30
SAMPLE = 1000


def _dtype(values: pd.Series, distinct: int) -> str:
    if pd.api.types.is_bool_dtype(values):
        return "bool"
    if pd.api.types.is_numeric_dtype(values):
        present = values.dropna()
        return "int" if present.empty or bool((present % 1 == 0).all()) else "float"
    # Text columns are judged on a sample; only a column that looks like dates is read whole.
    sample = values.dropna().head(SAMPLE).astype(str)
    if len(sample) and sample.str.contains(r"^\d{4}-\d{2}-\d{2}", regex=True).all():
        present = values.dropna()
        stamps = parse_dates(present, None)
        if stamps.notna().all():
            midnight = (stamps == stamps.dt.normalize()).all()
            return "date" if midnight else "datetime"
    if (
        distinct > MAX_ALLOWED
        and sample.str.len().mean() >= TEXT_LENGTH
        and sample.str.contains(" ").mean() > 0.5
    ):
        return "text"
    return "str"


def _role(name: str, values: pd.Series, distinct: int, target: str) -> str:
    if name == target:
        return "target"
    if ID_NAME.search(name) and distinct == len(values) and values.notna().all():
        return "id"
    return "feature"


def _widen(low: float, high: float, dtype: str) -> tuple[float, float]:
    """The observed range plus a margin; a non-negative column stays non-negative."""
    span = (high - low) or abs(high) or 1.0
    new_low, new_high = low - MARGIN * span, high + MARGIN * span
    if low >= 0 > new_low:
        new_low = 0.0
    if dtype == "int":
        return math.floor(new_low), math.ceil(new_high)
    # Three significant digits of the span keep the file readable and the bounds outside the data.
    step = 10 ** (math.floor(math.log10(span)) - 2)
    return _clean(math.floor(new_low / step) * step), _clean(math.ceil(new_high / step) * step)


def _clean(value: float) -> float:
    return float(f"{value:.12g}")


def _allowed(values: pd.Series, dtype: str) -> list[Any]:
    distinct = values.dropna().unique().tolist()
    if dtype == "int":
        return sorted(int(value) for value in distinct)
    return sorted(str(value) for value in distinct)


def infer(frame: pd.DataFrame, target: str, task: str) -> dict[str, Any]:
    """The schema of ``frame`` as a plain mapping (what schema.yaml will hold)."""
    if target not in frame.columns:
        shown = ", ".join(map(str, frame.columns[:10]))
        raise UsageError(f"target {target!r} is not a column of the data (columns: {shown})")
    nulls = frame.isna().sum()
    distinct = frame.nunique(dropna=True)
    columns: dict[str, dict[str, Any]] = {}
    for name in frame.columns:
        values = frame[name]
        dtype = _dtype(values, int(distinct[name]))
        role = _role(str(name), values, int(distinct[name]), target)
        rule: dict[str, Any] = {"dtype": dtype}
        if role != "feature":
            rule["role"] = role
        rule["nullable"] = bool(nulls[name])
        if role == "id":  # every value differs (see _role): new data must keep it so
            rule["unique"] = True
        is_target = name == target
        if is_target and task == "regression" and dtype not in ("int", "float"):
            raise UsageError(
                f"target {target!r} holds text but task is regression: pick a numeric column "
                "or set task: classification in config/pipeline.yaml"
            )
        if is_target and task == "classification" and distinct[name] > MAX_CLASSES:
            raise UsageError(
                f"target {target!r} has {distinct[name]} distinct values, more than "
                f"{MAX_CLASSES} classes: is it the right column, or is this regression?"
            )
        if role == "id" or dtype in ("bool", "date", "datetime", "text"):
            pass  # identifiers are not checked for range; these dtypes take no min/max/allowed
        elif dtype in ("int", "float") and not (is_target and task == "classification"):
            if distinct[name]:
                rule["min"], rule["max"] = _widen(float(values.min()), float(values.max()), dtype)
        elif distinct[name] <= MAX_ALLOWED or is_target:
            rule["allowed"] = _allowed(values, dtype)
        columns[str(name)] = rule
    return {
        "min_rows": max(1, len(frame) // 2),
        "max_duplicate_rows": duplicate_rows(frame),
        "missing_target": "drop",
        "columns": columns,
    }


def _yaml(value: Any) -> str:
    # JSON is valid YAML: strings come out quoted, lists as flow sequences, numbers plain.
    return json.dumps(value, ensure_ascii=False)


def to_yaml(schema: dict[str, Any], source: Path, rows: int) -> str:
    """schema.yaml text: a header saying where it came from, one flow mapping per column."""
    lines = [
        f"# Inferred by `make schema` from {source} ({rows} rows). Review it before committing:",
        f"# ranges are the observed ones widened by {MARGIN * 100:.0f} percent; `allowed` lists",
        f"# every value of text columns with at most {MAX_ALLOWED} distinct values; min_rows is",
        "# half the rows seen. Check each column's role (feature, target, id, ignore, group) and",
        "# dtype (int, float, str, bool, date, datetime, text): see the README.",
        f"min_rows: {schema['min_rows']}",
        f"max_duplicate_rows: {schema['max_duplicate_rows']}",
        f"missing_target: {schema['missing_target']}",
        "columns:",
    ]
    for name, rule in schema["columns"].items():
        # Quoted unless YAML reads it back as the same string (`on`, `no`, `null` it would not).
        plain = PLAIN_KEY.match(name) and yaml.safe_load(name) == name
        key = name if plain else _yaml(name)
        fields = ", ".join(f"{field}: {_yaml(value)}" for field, value in rule.items())
        lines.append(f"  {key}: " + "{" + fields + "}")
    return "\n".join(lines) + "\n"


def main(args: argparse.Namespace, settings: Settings, schema: Schema | None) -> str:
    return infer_schema(settings, args.config, args.input, args.target, args.force)


def infer_schema(
    settings: Settings,
    config_path: Path,
    source: Path | None,
    target: str | None,
    force: bool,
) -> str:
    """Infer the schema of ``source`` (default data.path), write it, point the config at it."""
    source = source or settings.data.path
    target = target or settings.data.target
    output = settings.data.schema_file
    if output.exists() and not force:
        raise UsageError(f"{output} exists: not overwriting it (make schema FORCE=1 to replace it)")
    setting = "data.path" if source == settings.data.path else "--input"
    frame = data.read_csv(source, settings.data.csv, setting=setting)
    inferred = infer(frame, target, settings.task)
    if settings.task == "classification":
        for line in rare_classes(frame[target], settings.data.rare_class_share):
            warning("Rare class", line)
    with atomic(output) as partial:
        partial.write_text(to_yaml(inferred, source, len(frame)), encoding="utf-8")
        # Read back as YAML, the file must load and accept the very data it came from.
        try:
            written = load_schema(partial)
        except ConfigError as error:
            raise UsageError(f"inferred a schema that does not load ({error})") from None
        if not (report := validate(frame, written, target=target)).passed:
            raise UsageError(f"inferred schema rejects its own data: {report.summary()}")
    changed = {}
    if source.as_posix() != settings.data.path.as_posix():
        changed["path"] = source.as_posix()
    if target != settings.data.target:
        changed["target"] = target
    if changed:
        set_data_keys(config_path, changed)
    kinds = dict.fromkeys(("int", "float", "bool", "str", "date", "datetime", "text"), 0)
    for rule in inferred["columns"].values():
        kinds[rule["dtype"]] += 1
    counts = ", ".join(f"{count} {dtype}" for dtype, count in kinds.items() if count)
    updated = f"; set data.{' and data.'.join(changed)} in {config_path}" if changed else ""
    return (
        f"wrote {output}: {len(inferred['columns'])} columns ({counts}), target {target!r}, "
        f"from {len(frame)} rows of {source}{updated}"
    )


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
