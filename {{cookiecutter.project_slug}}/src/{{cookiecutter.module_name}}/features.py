"""Column parsers shared by validation, training and prediction: bool forms, dates, free text.

The transformers are part of the saved model (skops trusts them because this package made them),
so a model that uses them loads where this package is installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

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


class BoolColumns(TransformerMixin, BaseEstimator):
    """true/false, yes/no, y/n, t/f, 1/0 (any case shown in BOOL_VALUES) → 1.0/0.0, else NaN."""

    def fit(self, x, y=None):
        self.n_features_in_ = x.shape[1]
        return self

    def transform(self, x):
        return np.column_stack([parse_bool(x[name]) for name in x.columns])

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features, dtype=object)


class CalendarFeatures(TransformerMixin, BaseEstimator):
    """A date column → year, month, day, day of week, day of year (+ hour, minute): numbers a
    model can use, instead of one category per distinct day."""

    def __init__(self, kind: str = "date", fmt: str | None = None):
        self.kind = kind
        self.fmt = fmt

    def fit(self, x, y=None):
        self.n_features_in_ = x.shape[1]
        self.columns_ = list(x.columns)
        return self

    def transform(self, x):
        parts = []
        for name in x.columns:
            stamps = parse_dates(x[name], self.fmt).dt
            parts += [getattr(stamps, part).astype(float) for part in CALENDAR[self.kind]]
        return np.column_stack(parts)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(
            [f"{name}_{part}" for name in self.columns_ for part in CALENDAR[self.kind]],
            dtype=object,
        )


class TextColumn(TransformerMixin, BaseEstimator):
    """One free-text column as the 1-D list of strings TF-IDF reads; missing text is empty."""

    def fit(self, x, y=None):
        return self

    def transform(self, x):
        column = x.iloc[:, 0] if getattr(x, "ndim", 1) == 2 else x
        return column.fillna("").astype(str).to_numpy()

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features, dtype=object)


class Categories(TransformerMixin, BaseEstimator):
    """Category columns as text (a code read as 7 and one read as "7" are the same category);
    missing values become their own category, "(missing)"."""

    def fit(self, x, y=None):
        self.n_features_in_ = x.shape[1]
        return self

    def transform(self, x):
        return x.astype(object).where(x.notna(), "(missing)").astype(str)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features, dtype=object)
