"""Score a fitted model on a test split: the metric set of each task, as plain floats."""

from __future__ import annotations

import numpy as np
import pandas as pd

# Every metric the pipeline logs, and whether higher is better.
HIGHER_IS_BETTER = {
    "classification": {
        "accuracy": True,
        "precision_macro": True,
        "recall_macro": True,
        "f1_macro": True,
        "precision_weighted": True,
        "recall_weighted": True,
        "f1_weighted": True,
        "roc_auc": True,
        "log_loss": False,
    },
    "regression": {"rmse": False, "mae": False, "r2": True},
}


def score(task: str, model, x_test: pd.DataFrame, y_test: pd.Series) -> dict[str, float]:
    """The task's metrics for ``model`` on ``(x_test, y_test)``."""
    from sklearn import metrics as m

    predicted = model.predict(x_test)
    if task == "regression":
        return {
            "rmse": float(np.sqrt(m.mean_squared_error(y_test, predicted))),
            "mae": float(m.mean_absolute_error(y_test, predicted)),
            "r2": float(m.r2_score(y_test, predicted)),
        }
    result = {"accuracy": float(m.accuracy_score(y_test, predicted))}
    for average in ("macro", "weighted"):
        precision, recall, f1, _ = m.precision_recall_fscore_support(
            y_test, predicted, average=average, zero_division=0
        )
        result |= {
            f"precision_{average}": float(precision),
            f"recall_{average}": float(recall),
            f"f1_{average}": float(f1),
        }
    probabilities = model.predict_proba(x_test)
    classes = list(model.classes_)
    if len(classes) == 2:
        result["roc_auc"] = float(m.roc_auc_score(y_test, probabilities[:, 1]))
    else:
        result["roc_auc"] = float(
            m.roc_auc_score(y_test, probabilities, multi_class="ovr", labels=classes)
        )
    result["log_loss"] = float(m.log_loss(y_test, probabilities, labels=classes))
    return result
