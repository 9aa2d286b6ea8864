"""Evaluation plots written as PNG: confusion matrix, or residuals and predicted-vs-actual.

``drawing`` draws them in a forked process while the caller goes on with its tracking calls:
matplotlib's import and the drawing take the other core instead of the pipeline's time. ``aside``
runs any such work in a forked process (the monitor report draws half its plots with it).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


def _can_fork() -> bool:
    """Fork only where it is safe: Linux (macOS frameworks break in a forked child) and a
    single thread (a lock another thread held at the fork would stay held in the child)."""
    return sys.platform == "linux" and threading.active_count() == 1


@contextmanager
def drawing(
    task: str, y_test: pd.Series, predicted: np.ndarray, out: Path
) -> Iterator[Callable[[], list[Path]]]:
    """Draw the figures aside (a forked process) during the block; the yielded function waits for
    them and returns their paths (see ``aside``)."""
    with aside(lambda: write_figures(task, y_test, predicted, out)) as wait:

        def paths() -> list[Path]:
            wait()
            return [out / name for name in FIGURES[task]]

        yield paths


@contextmanager
def aside(work: Callable[[], object]) -> Iterator[Callable[[], None]]:
    """Run ``work`` in a forked process during the block; the yielded function waits for it. If
    the process fails, or cannot be forked, ``work`` runs in this process instead, so a real
    error surfaces here. Leaving the block early (an error, a cancellation) stops the process."""
    pid = os.fork() if _can_fork() else None
    if pid == 0:  # the child: work, then leave without running the parent's exit handlers
        code = 1
        try:
            work()
            code = 0
        finally:
            os._exit(code)
    waited = False

    def wait() -> None:
        nonlocal waited
        if waited:
            return
        waited = True
        if pid is not None:
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) == 0:
                return
        work()

    try:
        yield wait
    finally:
        if pid is not None and not waited:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
