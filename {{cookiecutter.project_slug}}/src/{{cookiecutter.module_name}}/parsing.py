"""Parsers of column values shared by validation, training and prediction: bool forms, dates.

No scikit-learn here: validating data imports only pandas (see features.py for the transformers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
