"""Evaluation plots written as PNG: confusion matrix, or residuals and predicted-vs-actual."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_figures(
    task: str, model, x_test: pd.DataFrame, y_test: pd.Series, out: Path
) -> list[Path]:
    """Write the task's evaluation plots into ``out``; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    predicted = model.predict(x_test)
    written = []
    if task == "classification":
        from sklearn.metrics import ConfusionMatrixDisplay

        display = ConfusionMatrixDisplay.from_predictions(y_test, predicted, colorbar=False)
        display.ax_.set_title("Confusion matrix (test split)")
        written.append(_save(display.figure_, out / "confusion_matrix.png", plt))
    else:
        figure, axis = plt.subplots(figsize=(5, 4))
        axis.scatter(predicted, y_test - predicted, s=10)
        axis.axhline(0, color="grey", linewidth=1)
        axis.set(title="Residuals (test split)", xlabel="predicted", ylabel="actual - predicted")
        written.append(_save(figure, out / "residuals.png", plt))
        figure, axis = plt.subplots(figsize=(5, 4))
        axis.scatter(y_test, predicted, s=10)
        low = float(min(y_test.min(), predicted.min()))
        high = float(max(y_test.max(), predicted.max()))
        axis.plot([low, high], [low, high], color="grey", linewidth=1)
        axis.set(title="Predicted vs actual (test split)", xlabel="actual", ylabel="predicted")
        written.append(_save(figure, out / "predicted_vs_actual.png", plt))
    return written


def _save(figure, path: Path, plt) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
