"""Hyperparameter search with cross-validation on the training split.

The folds respect the split: stratified for classification, grouped when the schema has a group
column. Each candidate's mean and standard deviation over the folds is kept (an MLflow child run
each); the best candidate is refitted on the whole training split and becomes the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import ModelSettings, SearchSettings
from ..errors import ConfigError
from ..metric_names import higher_is_better

# The pipeline's metric names -> scikit-learn scorers ("neg_" ones are negated errors).
SCORERS = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced_accuracy",
    "precision_macro": "precision_macro",
    "recall_macro": "recall_macro",
    "f1_macro": "f1_macro",
    "precision_weighted": "precision_weighted",
    "recall_weighted": "recall_weighted",
    "f1_weighted": "f1_weighted",
    "roc_auc": "roc_auc_ovr",
    "log_loss": "neg_log_loss",
    "rmse": "neg_root_mean_squared_error",
    "mae": "neg_mean_absolute_error",
    "mape": "neg_mean_absolute_percentage_error",
    "r2": "r2",
}
DISTRIBUTIONS = ("uniform", "log_uniform", "int")


@dataclass(frozen=True)
class Candidate:
    params: dict[str, Any]  # in the config's names (C, not model__C)
    mean: float  # cross-validated score, in the metric's own units (an RMSE is positive)
    std: float
    fit_seconds: float


@dataclass(frozen=True)
class SearchResult:
    metric: str
    folds: int
    candidates: list[Candidate]
    best: Candidate
    model: Any  # the best candidate, refitted on the whole training split

    def metrics(self) -> dict[str, float]:
        """cv_<metric>_mean and cv_<metric>_std of the chosen candidate."""
        return {f"cv_{self.metric}_mean": self.best.mean, f"cv_{self.metric}_std": self.best.std}


def _prefix(model: ModelSettings) -> str:
    """Where the estimator's parameters live in the pipeline."""
    return "model__regressor__" if model.target_transform != "none" else "model__"


def _values(name: str, values: Any, method: str) -> Any:
    """A list of values, or (random search) a scipy distribution."""
    from scipy import stats

    if not isinstance(values, dict):
        return values if isinstance(values, list) else [values]
    key = f"model.search.params.{name}"
    if method != "random":
        raise ConfigError(f"{key}: distributions need method: random (grid takes lists)")
    if len(values) != 1 or (kind := next(iter(values))) not in DISTRIBUTIONS:
        shown = " | ".join(DISTRIBUTIONS)
        raise ConfigError(f"{key}: expected a list of values or one {shown}: [low, high]")
    bounds = values[kind]
    if not (isinstance(bounds, list) and len(bounds) == 2 and bounds[0] < bounds[1]):
        raise ConfigError(f"{key}: {kind} needs [low, high] with low < high")
    low, high = bounds
    if kind == "uniform":
        return stats.uniform(low, high - low)
    if kind == "int":
        return stats.randint(int(low), int(high) + 1)
    if low <= 0:
        raise ConfigError(f"{key}: log_uniform needs low > 0")
    return stats.loguniform(low, high)


def space(search: SearchSettings, model: ModelSettings) -> dict[str, Any]:
    """The parameter space in the pipeline's names."""
    prefix = _prefix(model)
    return {
        (name if "__" in name else prefix + name): _values(name, values, search.method)
        for name, values in search.params.items()
    }


def splitter(search: SearchSettings, task: str, seed: int, grouped: bool) -> Any:
    from sklearn import model_selection as ms

    if grouped:
        if task == "classification":
            return ms.StratifiedGroupKFold(search.folds, shuffle=True, random_state=seed)
        return ms.GroupKFold(search.folds)
    if task == "classification":
        return ms.StratifiedKFold(search.folds, shuffle=True, random_state=seed)
    return ms.KFold(search.folds, shuffle=True, random_state=seed)


def run(
    pipeline: Any,
    search: SearchSettings,
    model: ModelSettings,
    task: str,
    seed: int,
    x: Any,
    y: Any,
    groups: Any = None,
    verbose: int = 0,
    n_jobs: int | None = None,
) -> SearchResult:
    """Cross-validate every candidate on ``(x, y)``; refit the best on all of it. ``verbose``:
    scikit-learn's progress lines (3: one per fitted fold, with its candidate's params).
    ``n_jobs``: instead of ``search.n_jobs`` (-1 inside joblib's Dask backend: cluster.py)."""
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    scorer = SCORERS.get(search.scoring)
    if scorer is None:
        raise ConfigError(f"model.search.scoring: {search.scoring!r} cannot be cross-validated")
    common = {
        "scoring": scorer,
        "cv": splitter(search, task, seed, groups is not None),
        "n_jobs": search.n_jobs if n_jobs is None else n_jobs,
        "error_score": "raise",
        "refit": True,
        "verbose": verbose,
    }
    grid = space(search, model)
    if search.method == "grid":
        searcher = GridSearchCV(pipeline, grid, **common)
    else:
        searcher = RandomizedSearchCV(
            pipeline, grid, n_iter=search.n_iter, random_state=seed, **common
        )
    try:
        # Same folds, candidates and seeds wherever joblib runs the fits: the same result.
        searcher.fit(x, y, groups=groups)
    except (ValueError, TypeError) as error:
        message = str(error).strip().splitlines()[0]
        raise ConfigError(f"model.search: a candidate could not be fitted: {message}") from None
    return _result(searcher, search, model)


def _result(searcher: Any, search: SearchSettings, model: ModelSettings) -> SearchResult:
    sign = -1.0 if SCORERS[search.scoring].startswith("neg_") else 1.0
    results = searcher.cv_results_
    prefix = _prefix(model)
    candidates = [
        Candidate(
            {name.removeprefix(prefix): _plain(value) for name, value in params.items()},
            sign * float(mean),
            float(std),
            float(fit),
        )
        for params, mean, std, fit in zip(
            results["params"],
            results["mean_test_score"],
            results["std_test_score"],
            results["mean_fit_time"],
            strict=True,
        )
    ]
    best = candidates[searcher.best_index_]
    return SearchResult(search.scoring, search.folds, candidates, best, searcher.best_estimator_)


def _plain(value: Any) -> Any:
    """numpy scalars as Python ones (for YAML, JSON and MLflow params)."""
    return value.item() if hasattr(value, "item") else value


def describe(result: SearchResult) -> str:
    """What `make tune` prints: the winner, its score, and the params block to paste."""
    import yaml

    order = "higher" if higher_is_better(result.metric) else "lower"
    best = result.best
    lines = [
        f"best of {len(result.candidates)} candidates ({result.folds}-fold cv, {result.metric}, "
        f"{order} is better): {best.mean:.4f} ± {best.std:.4f}",
        "put these in model.params of config/pipeline.yaml to train them:",
        yaml.safe_dump(best.params, default_flow_style=False, sort_keys=True).rstrip(),
    ]
    return "\n".join(lines)


def logged_params(
    model: ModelSettings, search: SearchSettings, found: SearchResult
) -> dict[str, Any]:
    """The params of a run that searched: the estimator's, the winner's, and the search's."""
    return {
        "estimator": model.estimator,
        **model.params,
        **found.best.params,
        "search.method": search.method,
        "search.folds": search.folds,
        "search.scoring": search.scoring,
        "search.candidates": len(found.candidates),
    }


def child_runs(found: SearchResult) -> list[tuple[dict[str, Any], dict[str, float]]]:
    """(params, metrics) of each candidate: one nested MLflow run apiece."""
    key = f"cv_{found.metric}"
    return [
        (c.params, {f"{key}_mean": c.mean, f"{key}_std": c.std, "fit_seconds": c.fit_seconds})
        for c in found.candidates
    ]
