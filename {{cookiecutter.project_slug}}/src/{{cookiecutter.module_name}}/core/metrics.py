"""Score a fitted model on a test split: the metric set of each task, as plain floats."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..metric_names import perfect

if TYPE_CHECKING:
    import pandas as pd


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


@dataclass(frozen=True)
class Outputs:
    """What a model answers on a test split, computed once for the metrics and the figures."""

    predicted: Any
    scores: Any = None  # per class: predict_proba, else decision_function; None for regression
    probabilities: bool = False  # scores are predict_proba's
    classes: tuple = ()


def outputs(task: str, model: Any, x_test: pd.DataFrame) -> Outputs:
    """``model``'s predictions on ``x_test`` and, for a classifier, its scores per class."""
    predicted = model.predict(x_test)
    if task == "regression":
        return Outputs(predicted)
    classes = tuple(model.classes_)
    if hasattr(model, "predict_proba"):
        return Outputs(predicted, model.predict_proba(x_test), True, classes)
    if hasattr(model, "decision_function"):
        return Outputs(predicted, model.decision_function(x_test), False, classes)
    return Outputs(predicted, classes=classes)


def score(task: str, model, x_test: pd.DataFrame, y_test: pd.Series) -> dict[str, float]:
    """The task's metrics for ``model`` on ``(x_test, y_test)``."""
    return score_outputs(task, outputs(task, model, x_test), y_test)


def score_outputs(task: str, answers: Outputs, y_test: pd.Series) -> dict[str, float]:
    """The task's metrics for a model's ``answers`` (from ``outputs``) against ``y_test``.

    Classifiers without ``predict_proba`` (e.g. LinearSVC) get roc_auc from their decision
    function and no log_loss.
    """
    import numpy as np
    from sklearn import metrics as m

    predicted = answers.predicted
    if task == "regression":
        return {
            "rmse": float(np.sqrt(m.mean_squared_error(y_test, predicted))),
            "mae": float(m.mean_absolute_error(y_test, predicted)),
            "mape": float(m.mean_absolute_percentage_error(y_test, predicted)),
            "r2": float(m.r2_score(y_test, predicted)),
        }
    classes = list(answers.classes)
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
    scores = answers.scores
    if len(np.unique(y_test)) < 2 or scores is None:
        return result  # roc_auc is undefined on a one-class test split
    if answers.probabilities:
        result["log_loss"] = float(m.log_loss(y_test, scores, labels=labels))
    if len(classes) == 2:
        positive = scores[:, 1] if scores.ndim == 2 else scores
        result["roc_auc"] = float(m.roc_auc_score(y_test, positive))
    elif answers.probabilities:
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


def baseline(task: str, x_train: Any, y_train: Any, x_test: Any, y_test: Any) -> dict[str, float]:
    """Scores of the trivial model (class priors, or the mean) fitted on the same split."""
    from sklearn.dummy import DummyClassifier, DummyRegressor

    if task == "classification":
        dummy = DummyClassifier(strategy="prior")
    else:
        dummy = DummyRegressor(strategy="mean")
    dummy.fit(x_train, y_train)
    return score(task, dummy, x_test, y_test)


def add_relative(task: str, metrics: dict[str, float], baseline: dict[str, float]) -> None:
    """Add rmse_vs_baseline (regression): RMSE as a share of the baseline's."""
    if task == "regression":
        scale = baseline["rmse"] or 1.0
        metrics["rmse_vs_baseline"] = metrics["rmse"] / scale
        baseline["rmse_vs_baseline"] = baseline["rmse"] / scale
