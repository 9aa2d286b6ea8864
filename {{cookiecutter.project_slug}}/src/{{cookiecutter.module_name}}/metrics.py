"""Score a fitted model on a test split: the metric set of each task, as plain floats."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the config check imports this module: keep it free of heavy imports
    import pandas as pd

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


def skill(metric: str, task: str, candidate: float, baseline: float) -> float:
    """Share of the gap between ``baseline`` and a perfect score that ``candidate`` closes.

    1 is perfect, 0 is no better than the baseline, negative is worse. A baseline that is
    already perfect leaves no gap: a perfect candidate scores 0, anything else -1.
    """
    best = perfect(metric, task)
    gap = best - baseline
    if gap == 0:
        return 0.0 if candidate == best else -1.0
    return (candidate - baseline) / gap


def score(task: str, model, x_test: pd.DataFrame, y_test: pd.Series) -> dict[str, float]:
    """The task's metrics for ``model`` on ``(x_test, y_test)``.

    Classifiers without ``predict_proba`` (e.g. LinearSVC) get roc_auc from their decision
    function and no log_loss.
    """
    import numpy as np
    from sklearn import metrics as m

    predicted = model.predict(x_test)
    if task == "regression":
        return {
            "rmse": float(np.sqrt(m.mean_squared_error(y_test, predicted))),
            "mae": float(m.mean_absolute_error(y_test, predicted)),
            "mape": float(m.mean_absolute_percentage_error(y_test, predicted)),
            "r2": float(m.r2_score(y_test, predicted)),
        }
    classes = list(model.classes_)
    y_test, predicted, labels = _encoded(classes, y_test, predicted)
    result = {
        "accuracy": float(m.accuracy_score(y_test, predicted)),
        "balanced_accuracy": float(m.balanced_accuracy_score(y_test, predicted)),
    }
    for average in ("macro", "weighted"):
        precision, recall, f1, _ = m.precision_recall_fscore_support(
            y_test, predicted, average=average, zero_division=0
        )
        result |= {
            f"precision_{average}": float(precision),
            f"recall_{average}": float(recall),
            f"f1_{average}": float(f1),
        }
    if len(np.unique(y_test)) < 2:
        return result  # roc_auc is undefined on a one-class test split
    if hasattr(model, "predict_proba"):
        scores = model.predict_proba(x_test)
        result["log_loss"] = float(m.log_loss(y_test, scores, labels=labels))
    elif hasattr(model, "decision_function"):
        scores = model.decision_function(x_test)
    else:
        return result
    if len(classes) == 2:
        positive = scores[:, 1] if scores.ndim == 2 else scores
        result["roc_auc"] = float(m.roc_auc_score(y_test, positive))
    elif hasattr(model, "predict_proba"):
        result["roc_auc"] = float(m.roc_auc_score(y_test, scores, multi_class="ovr", labels=labels))
    return result


def _encoded(classes: list, y_test: Any, predicted: Any) -> tuple[Any, Any, Any]:
    """``y_test``, ``predicted`` and ``classes`` as codes into their sorted union of labels.

    Every metric depends on the labels only through equality and their sorted order, which the
    codes keep; scikit-learn sorts and compares text labels anew in each metric call, 40x
    slower than integers (seconds per call at 250k test rows).
    """
    import numpy as np
    import pandas as pd

    values = [np.asarray(classes, dtype=object), pd.unique(np.asarray(y_test, dtype=object))]
    known = np.unique(np.concatenate([*values, pd.unique(np.asarray(predicted, dtype=object))]))

    def codes(labels: Any) -> Any:
        return pd.Categorical(np.asarray(labels, dtype=object), categories=known).codes

    return codes(y_test), codes(predicted), codes(classes)
