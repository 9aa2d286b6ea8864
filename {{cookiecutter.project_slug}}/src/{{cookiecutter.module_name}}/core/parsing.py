"""Parsers of column values shared by validation, training and prediction: numbers, bool forms,
dates, and the dtype rule built on them (which values a column of a declared dtype may hold).

No scikit-learn and no pandera here: `make predict` and the API check inputs with these alone.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..schema import NUMERIC, TEMPORAL

if TYPE_CHECKING:
    import pandas as pd

TRUE = ("true", "True", "TRUE", "yes", "Yes", "YES", "y", "Y", "t", "T", "1", "1.0")
FALSE = ("false", "False", "FALSE", "no", "No", "NO", "n", "N", "f", "F", "0", "0.0")
# Every form a bool column may hold, mapped to 0/1: text forms, numbers and real booleans.
BOOL_VALUES: dict[str | bool, float] = {**dict.fromkeys(TRUE, 1.0), **dict.fromkeys(FALSE, 0.0)}
BOOL_VALUES |= {True: 1.0, False: 0.0}  # 1 == True and 0 == False: numbers map as well
CALENDAR = {
    "date": ("year", "month", "day", "day_of_week", "day_of_year"),
    "datetime": ("year", "month", "day", "day_of_week", "day_of_year", "hour", "minute"),
}
DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d+$")
# 12,500 or 1,234,567: a comma before each group of exactly three digits groups thousands.
THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d*)?$")
# A value quoted in a message is cut to this many characters (the rest is counted).
SHOWN_CHARS = 40
# Values (columns, labels) named in one message; the rest are counted.
SHOWN_VALUES = 5
# Undeclared columns compared with a missing one for a "renamed?" hint.
RENAME_CANDIDATES = 100


def parse_bool(values: pd.Series) -> pd.Series:
    """0.0/1.0 per value; NaN for missing values and for anything that is not a bool form."""
    return values.map(BOOL_VALUES).astype(float)


def parse_dates(values: pd.Series, fmt: str | None) -> pd.Series:
    """Timestamps; NaT for missing values and for anything ``fmt`` (or ISO 8601) cannot read."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    # Each distinct value parsed once: a million rows hold a few thousand days (20x faster).
    codes, distinct = pd.factorize(values)
    parsed = pd.to_datetime(
        pd.Series(distinct, dtype=object), format=fmt or "ISO8601", errors="coerce"
    )
    stamps = parsed.array.take(codes, allow_fill=True)  # -1 (missing) becomes NaT
    return pd.Series(stamps, index=values.index, name=values.name)


def numbers_of(values: pd.Series) -> pd.Series:
    """The values as numbers; NaN where a value is missing or not a number."""
    import pandas as pd

    return pd.to_numeric(values, errors="coerce")


def shown(value: object) -> str:
    """A value as the user wrote it, quoted (numbers as numbers, not numpy's repr), and cut to
    SHOWN_CHARS characters with the number of characters left out."""
    if hasattr(value, "item"):  # a numpy scalar: the Python value it holds
        value = value.item()
    text = repr(value)
    if len(text) <= SHOWN_CHARS:
        return text
    return f"{text[:SHOWN_CHARS]}... (+{len(text) - SHOWN_CHARS} characters)"


def listed(values: Iterable[object], limit: int = SHOWN_VALUES) -> str:
    """Values as ``shown`` and comma-separated, the first ``limit`` of them and a count of the
    rest: "'a', 'b' and 3 more"."""
    values = list(values)
    text = ", ".join(shown(value) for value in values[:limit])
    return f"{text} and {len(values) - limit} more" if len(values) > limit else text


def renamed(missing: Iterable[str], undeclared: Iterable[str]) -> list[str]:
    """For each missing column, the undeclared one most like it in name, as a hint:
    "'tenure' missing, 'tenure_months' not declared: renamed?" (none if nothing is undeclared).
    Bounded: the first SHOWN_VALUES missing columns, among the first RENAME_CANDIDATES others."""
    left = list(undeclared)[:RENAME_CANDIDATES]
    hints = []
    for name in list(missing)[:SHOWN_VALUES]:
        if not left:
            break
        likeness = [difflib.SequenceMatcher(None, name, other).ratio() for other in left]
        other = left.pop(likeness.index(max(likeness)))
        hints.append(f"{shown(name)} missing, {shown(other)} not declared: renamed?")
    return hints


def not_of_type(
    values: pd.Series, dtype: str, fmt: str | None = None, parsed: pd.Series | None = None
) -> pd.Series:
    """True for each present value that is not of ``dtype`` (a schema dtype; ``fmt`` for dates).

    ``parsed``: ``numbers_of(values)`` if the caller already has it (int and float columns).
    """
    import numpy as np

    present = values.notna()
    if dtype in NUMERIC:
        numbers = numbers_of(values) if parsed is None else parsed
        wrong = present & ~np.isfinite(numbers.to_numpy(dtype=float, na_value=np.nan))
        if dtype == "int":
            wrong |= present & numbers.notna() & (numbers % 1 != 0)
        return wrong
    if dtype == "bool":
        return present & ~values.isin(list(BOOL_VALUES))
    if dtype in TEMPORAL:
        return present & parse_dates(values, fmt).isna()
    if dtype == "str":
        # Text that is only spaces is a missing value in disguise.
        return present & values.astype(str).str.strip().eq("")
    return present & False  # text: anything goes


def type_detail(dtype: str, fmt: str | None, example: object) -> str:
    """What is wrong with values that are not of ``dtype``, with one of them as ``example``."""
    if dtype in NUMERIC:
        if dtype == "int" and _fraction(example):
            return f"values that are not a whole number (e.g. {shown(example)})"
        hint = ""
        if THOUSANDS.match(str(example)):
            hint = ": thousands separator? set data.csv.thousands"
        elif DECIMAL_COMMA.match(str(example)):
            hint = ": a decimal comma? set data.csv.decimal"
        return f"values that are not finite {dtype} numbers (e.g. {shown(example)}{hint})"
    if dtype == "bool":
        return f"values that are not true/false, yes/no or 1/0 (e.g. {shown(example)})"
    if dtype in TEMPORAL:
        return f"values that are not {fmt or 'ISO 8601'} dates (e.g. {shown(example)})"
    return "blank values (only spaces)"


def _fraction(value: Any) -> bool:
    """Whether ``value`` is a finite number with a fractional part (59.24, "59.24")."""
    try:
        number = float(value)  # numpy scalars, Python numbers and numeric text alike
    except (TypeError, ValueError):
        return False
    return math.isfinite(number) and not number.is_integer()


def wrong_type(
    values: pd.Series, dtype: str, fmt: str | None = None, parsed: pd.Series | None = None
) -> tuple[pd.Series, str]:
    """``not_of_type`` and the detail to report it with (empty when every value is right)."""
    wrong = not_of_type(values, dtype, fmt, parsed)
    if not wrong.any():
        return wrong, ""
    return wrong, type_detail(dtype, fmt, values[wrong].iloc[0])
