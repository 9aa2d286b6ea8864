"""Evaluation plots written as PNG: confusion matrix, or residuals and predicted-vs-actual."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

FIGURES = {
    "classification": ("confusion_matrix.png",),
    "regression": ("residuals.png", "predicted_vs_actual.png"),
}


def write_figures(task: str, y_test: pd.Series, predicted: np.ndarray, out: Path) -> list[Path]:
    """Write the task's evaluation plots of ``predicted`` against ``y_test`` into ``out``;
    return their paths (FIGURES[task], in that order)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / name for name in FIGURES[task]]
    if task == "classification":
        from sklearn.metrics import ConfusionMatrixDisplay

        display = ConfusionMatrixDisplay.from_predictions(y_test, predicted, colorbar=False)
        display.ax_.set_title("Confusion matrix (test split)")
        _save(display.figure_, paths[0], plt)
        return paths
    figure, axis = plt.subplots(figsize=(5, 4))
    axis.scatter(predicted, y_test - predicted, s=10)
    axis.axhline(0, color="grey", linewidth=1)
    axis.set(title="Residuals (test split)", xlabel="predicted", ylabel="actual - predicted")
    _save(figure, paths[0], plt)
    figure, axis = plt.subplots(figsize=(5, 4))
    axis.scatter(y_test, predicted, s=10)
    low = float(min(y_test.min(), predicted.min()))
    high = float(max(y_test.max(), predicted.max()))
    axis.plot([low, high], [low, high], color="grey", linewidth=1)
    axis.set(title="Predicted vs actual (test split)", xlabel="actual", ylabel="predicted")
    _save(figure, paths[1], plt)
    return paths


def _save(figure, path: Path, plt) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
