"""Drift between the data a model was trained on and a batch it is asked to score. Pure, no I/O.

At training time ``profile`` keeps, per feature, a sample of its values (numbers) or its category
counts, its missing-value rate, and the model's predictions on the sample; the profile is logged
with the model's run, so monitoring needs only the registry, never the training data.

``compare`` tests each column with the method its kind and the reference's size call for (the
defaults Evidently uses): with at most ``small_sample`` reference rows a statistical test at
p < ``p_value`` (two-sample Kolmogorov-Smirnov for numbers, chi-square for categories); with more,
a distance that does not flag every negligible shift of a large sample, at or above ``distance``
(Wasserstein distance in units of the reference's standard deviation; Jensen-Shannon distance,
which also needs a significant chi-square test: sparse counts move it by chance alone).
Dates and free text are not tested; their missing-value rates are.

The batch drifts when enough columns drifted (``drift_share``), when one drifted strongly (its
distance, whichever test decided, at or above ``strong_distance``), when a drifted column is one
the model leans on (its share of the permutation importance measured at training,
``importance_share``), or when the predictions drifted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..config import MonitoringSettings
from ..schema import NUMERIC

PROFILE_VERSION = 2  # 2: with "importance"
# Test rows the permutation importance at training is measured on, and its shuffles per column.
IMPORTANCE_ROWS = 1000
IMPORTANCE_REPEATS = 3
# Categories kept per column; the rarest beyond it are counted together.
MAX_CATEGORIES = 1000
OTHER = "(other)"


def percent(share: float, digits: int = 0) -> str:
    return f"{share * 100:.{digits}f}%"


def kind_of(dtype: str) -> str:
    """numeric, categorical, or other (not tested for drift) for a schema dtype."""
    if dtype in NUMERIC:
        return "numeric"
    return "categorical" if dtype in ("str", "bool") else "other"


def numbers(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)


def _counts(values: pd.Series) -> dict[str, int]:
    counts = values.dropna().astype(str).value_counts()
    kept = counts.iloc[:MAX_CATEGORIES]
    result = {str(key): int(value) for key, value in kept.items()}
    if rest := int(counts.iloc[MAX_CATEGORIES:].sum()):
        result[OTHER] = rest
    return result


def _describe(kind: str, values: pd.Series, sample: pd.Series) -> dict[str, Any]:
    entry: dict[str, Any] = {"kind": kind, "missing": float(values.isna().mean())}
    if kind == "numeric":
        entry["values"] = numbers(sample).tolist()
    elif kind == "categorical":
        entry["counts"] = _counts(values)
    return entry


def profile(
    dtypes: Mapping[str, str],
    frame: pd.DataFrame,
    predict,
    task: str,
    rows: int,
    seed: int,
    target: pd.Series | None = None,
) -> dict[str, Any]:
    """The reference profile of ``frame`` (the training features, columns ``dtypes``):
    ``rows`` sampled values per numeric column, category counts, missing rates, the predictions
    ``predict`` makes on the sample, and what the trivial baseline needs of the ``target``
    (class counts, or the mean)."""
    sample = frame.sample(n=min(rows, len(frame)), random_state=seed) if len(frame) else frame
    columns = {
        name: _describe(kind_of(dtype), frame[name], sample[name]) for name, dtype in dtypes.items()
    }
    predicted = pd.Series(predict(sample[list(dtypes)]) if len(sample) else [])
    kind = "categorical" if task == "classification" else "numeric"
    result = {
        "version": PROFILE_VERSION,
        "rows": len(frame),
        "columns": columns,
        "prediction": _describe(kind, predicted, predicted),
    }
    if target is not None:
        if task == "classification":
            counts = target.value_counts(sort=False)
            result["target"] = {"classes": [[_plain(k), int(n)] for k, n in counts.items()]}
        else:
            result["target"] = {"mean": float(target.mean())}
    return result


def importance(model: Any, x_test: pd.DataFrame, y_test: pd.Series, task: str, seed: int) -> dict:
    """Each input column's share of the model's permutation importance on (a bounded sample of)
    the test split: how much the score drops when the column is shuffled, scaled to sum to 1.
    Columns whose shuffling does not hurt get 0; a model that learnt nothing, all zeros."""
    from sklearn.inspection import permutation_importance

    if len(x_test) > IMPORTANCE_ROWS:
        rows = np.random.default_rng(seed).choice(len(x_test), IMPORTANCE_ROWS, replace=False)
        x_test, y_test = x_test.iloc[rows], y_test.iloc[rows]
    scoring = "balanced_accuracy" if task == "classification" else "r2"
    found = permutation_importance(
        model, x_test, y_test, scoring=scoring, n_repeats=IMPORTANCE_REPEATS, random_state=seed
    )
    # A score undefined on this split (NaN, e.g. r2 of a constant target) counts as no drop.
    drops = np.nan_to_num(np.clip(found.importances_mean, 0.0, None), nan=0.0)
    total = float(drops.sum())
    shares = drops / total if total > 0 else drops
    return {str(name): float(share) for name, share in zip(x_test.columns, shares, strict=True)}


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def baseline_model(reference: dict[str, Any], task: str) -> Any:
    """The trivial model of training time (class priors, or the mean), rebuilt from the profile,
    to score new labelled data the way the gate scored the test split."""
    from sklearn.dummy import DummyClassifier, DummyRegressor

    target = reference["target"]
    if task == "regression":
        return DummyRegressor(strategy="constant", constant=target["mean"]).fit([[0]], [0.0])
    labels = np.repeat(
        np.array([label for label, _ in target["classes"]], dtype=object),
        [count for _, count in target["classes"]],
    )
    labels = labels.astype(type(labels[0])) if len({type(v) for v in labels}) == 1 else labels
    return DummyClassifier(strategy="prior").fit(np.zeros((len(labels), 1)), labels)


def _numeric_drift(reference: np.ndarray, current: np.ndarray, small: bool, settings) -> tuple:
    """(method, statistic, threshold, drifted, distance): the distance (Wasserstein, in standard
    deviations of the reference) also measures how strong a drift is, whatever decided it."""
    from scipy import stats

    scale = float(np.std(reference)) or 1.0
    distance = float(stats.wasserstein_distance(reference, current)) / scale
    if small:
        p_value = float(stats.ks_2samp(reference, current).pvalue)
        drifted = p_value < settings.p_value
        return "Kolmogorov-Smirnov p-value", p_value, settings.p_value, drifted, distance
    drifted = distance >= settings.distance
    return "Wasserstein distance (std units)", distance, settings.distance, drifted, distance


def _categorical_drift(reference: dict, current: dict, small: bool, settings) -> tuple:
    """(method, statistic, threshold, drifted, distance), the distance Jensen-Shannon's."""
    from scipy import stats
    from scipy.spatial import distance as distances

    names = sorted(set(reference) | set(current))
    ref = np.array([reference.get(name, 0) for name in names], dtype=float)
    cur = np.array([current.get(name, 0) for name in names], dtype=float)
    p_value = 1.0 if len(names) < 2 else float(stats.chi2_contingency(np.vstack([ref, cur]))[1])
    js = float(distances.jensenshannon(ref / ref.sum(), cur / cur.sum()))
    if small:
        drifted = p_value < settings.p_value
        return "chi-square p-value", p_value, settings.p_value, drifted, js
    # Sampling noise alone moves the distance of sparse counts (many categories, few rows each):
    # a distance counts only when the counts differ significantly too.
    drifted = js >= settings.distance and p_value < settings.p_value
    return "Jensen-Shannon distance", js, settings.distance, drifted, js


def compare_column(
    reference: dict[str, Any], values: pd.Series, small: bool, settings: MonitoringSettings
) -> dict[str, Any]:
    """One column's drift result: the test, its statistic and threshold, and why it drifted."""
    kind = reference["kind"]
    missing = float(values.isna().mean()) if len(values) else 0.0
    result: dict[str, Any] = {
        "kind": kind,
        "missing_reference": reference["missing"],
        "missing_current": missing,
        "method": None,
        "statistic": None,
        "threshold": None,
        "distance": None,  # Wasserstein (std units) or Jensen-Shannon, however it was tested
        "strong": False,
        "reasons": [],
    }
    if missing - reference["missing"] > settings.max_missing_increase:
        result["reasons"].append(
            f"missing values {percent(reference['missing'], 1)} -> {percent(missing, 1)}"
        )
    tested = None
    if kind == "numeric" and reference["values"] and len(current := numbers(values)):
        tested = _numeric_drift(np.asarray(reference["values"]), current, small, settings)
    elif kind == "categorical" and reference["counts"] and len(found := _counts(values)):
        tested = _categorical_drift(reference["counts"], found, small, settings)
        unseen = sum(n for name, n in found.items() if name not in reference["counts"])
        result["unseen_share"] = unseen / sum(found.values())
        if result["unseen_share"] > settings.max_unseen_share:
            result["reasons"].append(f"{percent(result['unseen_share'], 1)} unseen categories")
    if tested is not None:
        result["method"], result["statistic"], result["threshold"], drifted, distance = tested
        result["distance"] = distance
        result["strong"] = bool(drifted and distance >= settings.strong_distance)
        if drifted:
            result["reasons"].append(f"{result['method']} {result['statistic']:.3g}")
    result["drifted"] = bool(result["reasons"])
    return result


def compare(
    reference: dict[str, Any],
    batch: pd.DataFrame,
    predictions: Any,
    settings: MonitoringSettings,
    tested: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Drift of ``batch`` (and of the model's ``predictions`` on it) against ``reference``;
    ``tested(n)`` is told after each column how many have been tested."""
    small = reference["rows"] <= settings.small_sample
    columns = {}
    for name, entry in reference["columns"].items():
        columns[name] = compare_column(entry, batch[name], small, settings)
        if tested is not None:
            tested(len(columns))
    weights = reference.get("importance", {})  # none in profiles of version 1
    for name, result in columns.items():
        result["importance"] = weights.get(name)
    drifted = [name for name, result in columns.items() if result["drifted"]]
    share = len(drifted) / len(columns) if columns else 0.0
    prediction = compare_column(reference["prediction"], pd.Series(predictions), small, settings)
    reasons = []
    if columns and share >= settings.drift_share:
        reasons.append(
            f"{len(drifted)} of {len(columns)} feature columns drifted "
            f"({percent(share)} >= {percent(settings.drift_share)}): {', '.join(drifted)}"
        )
    for name in drifted:
        result = columns[name]
        if result["strong"]:
            kind = "Wasserstein (std units)" if result["kind"] == "numeric" else "Jensen-Shannon"
            reasons.append(
                f"{name} drifted strongly ({kind} distance {result['distance']:.3g} >= "
                f"{settings.strong_distance:g})"
            )
        weight = result["importance"]
        if settings.importance_share is not None and (weight or 0) >= settings.importance_share:
            reasons.append(
                f"{name} drifted and carries {percent(weight)} of the model's importance "
                f"(>= {percent(settings.importance_share)}): {'; '.join(result['reasons'])}"
            )
    if settings.prediction_drift and prediction["drifted"]:
        reasons.append(f"predictions drifted ({'; '.join(prediction['reasons'])})")
    return {
        "drift": bool(reasons),
        "reasons": reasons,
        "rows": len(batch),
        "reference_rows": reference["rows"],
        "drift_share": share,
        "drift_share_threshold": settings.drift_share,
        "drifted_columns": drifted,
        "strong_columns": [name for name in drifted if columns[name]["strong"]],
        "columns": columns,
        "prediction": prediction,
    }
