"""Evaluation plots written as PNG, each drawn once on the test split: the confusion matrix, ROC,
precision-recall and calibration curves (classification), residuals and predicted-vs-actual
(regression), and the permutation importance measured for monitoring (both)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .core.metrics import Outputs

# Every figure a task can have, in the order write_figures returns them. A classifier without
# predict_proba (e.g. LinearSVC) has no calibration curve; one without any score per class, and
# a test split of one class, have no ROC or precision-recall curve either.
FIGURES = {
    "classification": (
        "confusion_matrix.png",
        "roc_curve.png",
        "precision_recall_curve.png",
        "calibration_curve.png",
        "permutation_importance.png",
    ),
    "regression": ("residuals.png", "predicted_vs_actual.png", "permutation_importance.png"),
}
TOP_FEATURES = 20  # bars in the importance plot
TOP_CLASSES = 10  # curves per plot: the classes with the most test rows
CALIBRATION_BINS = 10


def write_figures(
    task: str, y_test: pd.Series, answers: Outputs, importance: dict[str, float], out: Path
) -> list[Path]:
    """Write the task's plots of the model's ``answers`` (core.metrics.outputs) against
    ``y_test``, and of ``importance`` (each feature's share, core.drift.importance), into
    ``out``; return the paths written, in FIGURES order."""
    plt = _pyplot()
    out.mkdir(parents=True, exist_ok=True)
    if task == "classification":
        drawn = _classification(y_test, answers, plt)
    else:
        drawn = _regression(np.asarray(y_test), np.asarray(answers.predicted), plt)
    drawn["permutation_importance.png"] = importance_figure(importance)
    paths = []
    for name in FIGURES[task]:
        if (figure := drawn.get(name)) is not None:
            paths.append(out / name)
            figure.tight_layout()
            figure.savefig(paths[-1], dpi=100)
            plt.close(figure)
    return paths


def _classification(y_test: pd.Series, answers: Outputs, plt: Any) -> dict[str, Any]:
    from sklearn.calibration import CalibrationDisplay
    from sklearn.metrics import ConfusionMatrixDisplay, PrecisionRecallDisplay, RocCurveDisplay

    display = ConfusionMatrixDisplay.from_predictions(y_test, answers.predicted, colorbar=False)
    display.ax_.set_title("Confusion matrix (test split)")
    drawn = {"confusion_matrix.png": display.figure_}
    curves = one_vs_rest(np.asarray(y_test), answers)
    if not curves:
        return drawn
    suffix, classes = " (test split)", len(answers.classes)
    if classes > 2:
        some = f", {len(curves)} of {classes} classes" if len(curves) < classes else ""
        suffix = f" (test split, one-vs-rest{some})"
    roc, pr = plt.subplots(figsize=(5, 4)), plt.subplots(figsize=(5, 4))
    for name, truth, scores in curves:
        # Positional scores: the keyword's name changed across scikit-learn versions.
        RocCurveDisplay.from_predictions(truth, scores, name=name, ax=roc[1])
        PrecisionRecallDisplay.from_predictions(
            truth, scores, name=name, ax=pr[1], drop_intermediate=True
        )
    roc[1].set(
        title="ROC curve" + suffix, xlabel="false positive rate", ylabel="true positive rate"
    )
    pr[1].set(title="Precision-recall curve" + suffix, xlabel="recall", ylabel="precision")
    drawn |= {"roc_curve.png": roc[0], "precision_recall_curve.png": pr[0]}
    if answers.probabilities:
        figure, axis = plt.subplots(figsize=(5, 4))
        for number, (name, truth, scores) in enumerate(curves):
            CalibrationDisplay.from_predictions(
                truth, scores, n_bins=CALIBRATION_BINS, name=name, ax=axis, ref_line=number == 0
            )
        axis.set(
            title="Calibration curve" + suffix,
            xlabel="mean predicted probability",
            ylabel="fraction of positives",
        )
        drawn["calibration_curve.png"] = figure
    return drawn


def one_vs_rest(y_test: np.ndarray, answers: Outputs) -> list[tuple[str, np.ndarray, Any]]:
    """(class, 1 where y_test is that class, the model's score for it) per curve to draw: the
    positive (second) class of two, else each class that the test split holds alongside others
    (the TOP_CLASSES with the most rows, in the model's order). None when the model has no score
    per class or the split holds a single class."""
    scores, classes = answers.scores, answers.classes
    if scores is None or len(np.unique(y_test)) < 2:
        return []
    if len(classes) == 2:
        positive = scores[:, 1] if scores.ndim == 2 else scores
        return [(str(classes[1]), (y_test == classes[1]).astype(int), positive)]
    curves = []
    for column, label in enumerate(classes):
        truth = (y_test == label).astype(int)
        if 0 < truth.sum() < len(truth):
            curves.append((str(label), truth, scores[:, column]))
    if len(curves) > TOP_CLASSES:
        largest = sorted(range(len(curves)), key=lambda number: -curves[number][1].sum())
        curves = [curves[number] for number in sorted(largest[:TOP_CLASSES])]
    return curves


def _regression(y_test: np.ndarray, predicted: np.ndarray, plt: Any) -> dict[str, Any]:
    residuals, axis = plt.subplots(figsize=(5, 4))
    axis.scatter(predicted, y_test - predicted, s=10)
    axis.axhline(0, color="grey", linewidth=1)
    axis.set(title="Residuals (test split)", xlabel="predicted", ylabel="actual - predicted")
    versus, axis = plt.subplots(figsize=(5, 4))
    axis.scatter(y_test, predicted, s=10)
    low = float(min(y_test.min(), predicted.min()))
    high = float(max(y_test.max(), predicted.max()))
    axis.plot([low, high], [low, high], color="grey", linewidth=1)
    axis.set(title="Predicted vs actual (test split)", xlabel="actual", ylabel="predicted")
    return {"residuals.png": residuals, "predicted_vs_actual.png": versus}


def importance_figure(importance: dict[str, float]) -> Any:
    """Horizontal bars of each feature's share of the permutation importance: the TOP_FEATURES
    largest, largest on top."""
    plt = _pyplot()
    ranked = sorted(importance.items(), key=lambda item: item[1], reverse=True)[:TOP_FEATURES]
    figure, axis = plt.subplots(figsize=(5, 1.5 + 0.25 * len(ranked)))
    axis.barh([name for name, _ in reversed(ranked)], [share for _, share in reversed(ranked)])
    title = "Permutation importance (test split)"
    if len(importance) > len(ranked):
        title = f"Permutation importance, top {len(ranked)} of {len(importance)} (test split)"
    axis.set(title=title, xlabel="share of the score drop when the column is shuffled")
    return figure


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only, whatever display the machine has
    import matplotlib.pyplot as plt

    return plt
