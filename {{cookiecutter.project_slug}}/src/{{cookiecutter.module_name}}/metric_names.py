"""The metrics the pipeline logs, by task, and whether higher is better for each.

The vocabulary the config is checked against (gate.criteria, model.search.scoring) and the
scoring in core/metrics.py uses: no imports, so loading the config stays cheap.
"""

from __future__ import annotations

# Every metric the pipeline logs, and whether higher is better.
HIGHER_IS_BETTER = {
    "classification": {
        "accuracy": True,
        "balanced_accuracy": True,
        "precision_macro": True,
        "recall_macro": True,
        "f1_macro": True,
        "precision_weighted": True,
        "recall_weighted": True,
        "f1_weighted": True,
        "roc_auc": True,
        "log_loss": False,
    },
    # rmse_vs_baseline: RMSE relative to the trivial baseline's (1 = no better than the mean),
    # comparable across datasets like r2.
    "regression": {
        "rmse": False,
        "mae": False,
        "mape": False,
        "r2": True,
        "rmse_vs_baseline": False,
    },
}


def higher_is_better(metric: str) -> bool:
    """Whether higher is better, for a metric of either task."""
    return next(table[metric] for table in HIGHER_IS_BETTER.values() if metric in table)


def cv_metrics(task: str, scoring: str | None) -> dict[str, bool]:
    """The cross-validation metrics a search with ``scoring`` logs, and their directions:
    cv_<scoring>_mean (as the metric) and cv_<scoring>_std (lower is better)."""
    if scoring not in HIGHER_IS_BETTER[task]:
        return {}
    return {f"cv_{scoring}_mean": HIGHER_IS_BETTER[task][scoring], f"cv_{scoring}_std": False}


def perfect(metric: str, task: str) -> float:
    """The best possible value of ``metric``: 1 for scores, 0 for errors."""
    return 1.0 if HIGHER_IS_BETTER[task][metric] else 0.0
