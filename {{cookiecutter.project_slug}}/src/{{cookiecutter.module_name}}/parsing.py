"""Parsers of column values shared by validation, training and prediction: numbers, bool forms,
dates, and the dtype rule built on them (which values a column of a declared dtype may hold).

No scikit-learn and no pandera here: `make predict` and the API check inputs with these alone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .config import NUMERIC, TEMPORAL

if TYPE_CHECKING:
    import pandas as pd

TRUE = ("true", "True", "TRUE", "yes", "Yes", "YES", "y", "Y", "t", "T", "1", "1.0")
FALSE = ("false", "False", "FALSE", "no", "No", "NO", "n", "N", "f", "F", "0", "0.0")
# Every form a bool column may hold, mapped to 0/1: text forms, numbers and real booleans.
BOOL_VALUES = {**dict.fromkeys(TRUE, 1.0), **dict.fromkeys(FALSE, 0.0)}
BOOL_VALUES |= {True: 1.0, False: 0.0}  # 1 == True and 0 == False: numbers map as well
CALENDAR = {
    "date": ("year", "month", "day", "day_of_week", "day_of_year"),
    "datetime": ("year", "month", "day", "day_of_week", "day_of_year", "hour", "minute"),
}
DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d+$")
# A value quoted in a message is cut to this many characters (the rest is counted).
SHOWN_CHARS = 40


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
        hint = (
            ": a decimal comma? set data.csv.decimal" if DECIMAL_COMMA.match(str(example)) else ""
        )
        return f"values that are not finite {dtype} numbers (e.g. {shown(example)}{hint})"
    if dtype == "bool":
        return f"values that are not true/false, yes/no or 1/0 (e.g. {shown(example)})"
    if dtype in TEMPORAL:
        return f"values that are not {fmt or 'ISO 8601'} dates (e.g. {shown(example)})"
    return "blank values (only spaces)"


def wrong_type(
    values: pd.Series, dtype: str, fmt: str | None = None, parsed: pd.Series | None = None
) -> tuple[pd.Series, str]:
    """``not_of_type`` and the detail to report it with (empty when every value is right)."""
    wrong = not_of_type(values, dtype, fmt, parsed)
    if not wrong.any():
        return wrong, ""
    return wrong, type_detail(dtype, fmt, values[wrong].iloc[0])
