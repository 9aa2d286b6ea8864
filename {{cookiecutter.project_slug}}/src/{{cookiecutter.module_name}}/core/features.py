"""Transformers of the model's preprocessing: bool forms, dates, free text and categories, and
the column transformer that holds them.

The transformers are part of the saved model (skops trusts them because this package made them),
so a model that uses them loads where this package is installed.
"""

from __future__ import annotations

import numpy as np
from joblib import parallel_config
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import StandardScaler

from .parsing import CALENDAR, parse_bool, parse_dates

# Rows per block when a scaler is fitted block by block (BlockwiseStandardScaler).
SCALER_BLOCK_ROWS = 1 << 16


class BlockwiseStandardScaler(StandardScaler):
    """StandardScaler fitted on blocks of rows with its own ``partial_fit``: the same means and
    variances (to rounding), without the full-size float64 temporaries one ``fit`` makes
    (+130 MB at 750k rows x 20 float32 columns; a few MB per block here). Transform is
    StandardScaler's."""

    def fit(self, X, y=None, sample_weight=None):
        if not isinstance(X, np.ndarray) or sample_weight is not None:
            return super().fit(X, y, sample_weight)
        # Forget an earlier fit (partial_fit adds to it): its fitted attributes, by scikit-learn's
        # convention the public names that end in "_".
        for name in [name for name in vars(self) if name.endswith("_") and name[0] != "_"]:
            delattr(self, name)
        for start in range(0, max(len(X), 1), SCALER_BLOCK_ROWS):
            self.partial_fit(X[start : start + SCALER_BLOCK_ROWS], y)
        return self


class DenseColumns(TransformerMixin, BaseEstimator):
    """Numeric columns → one new C-ordered array (float32 when every column is, else float64),
    so the imputer and the scaler after it work in place: handed a table, scikit-learn's checks
    convert it to an array twice (+115 MB at 750k rows x 20 float32 columns)."""

    def fit(self, x, y=None):
        self.n_features_in_ = x.shape[1]
        return self

    def transform(self, x):
        single = all(dtype == np.float32 for dtype in x.dtypes)
        out = np.empty(x.shape, dtype=np.float32 if single else np.float64)
        for position, name in enumerate(x.columns):
            out[:, position] = x[name].to_numpy(dtype=out.dtype, na_value=np.nan)
        return out

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features, dtype=object)


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


class InProcessColumnTransformer(ColumnTransformer):
    """A ColumnTransformer that transforms its column groups in the process that runs it.

    Inside a search on a Dask cluster each candidate x fold is a task, and joblib's Dask
    backend sends every parallel call made inside a task to the cluster as tasks of their own
    (joblib issue #1013): ColumnTransformer's one call per column group. On the sample's search
    that is 28 tasks instead of 9 and half its time on the cluster. Elsewhere nothing changes:
    ColumnTransformer's ``n_jobs`` is None, which runs the groups in turn."""

    def fit(self, X, y=None, **params):
        with parallel_config(backend="sequential"):
            return super().fit(X, y, **params)

    def fit_transform(self, X, y=None, **params):
        with parallel_config(backend="sequential"):
            return super().fit_transform(X, y, **params)

    def transform(self, X, **params):
        with parallel_config(backend="sequential"):
            return super().transform(X, **params)
