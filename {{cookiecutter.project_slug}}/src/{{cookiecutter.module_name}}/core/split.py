"""The train/test split: reproducible, stratified, grouped when the schema says so, and checked
to leave both sides usable (every class in the test split often enough to score)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..errors import ConfigError, DataError
from ..schema import Schema

if TYPE_CHECKING:
    import pandas as pd


def rare_classes(labels: pd.Series, share: float) -> list[str]:
    """One line per class holding less than ``share`` of the labelled rows: metrics that reward
    the majority class (accuracy) mislead there, and a model may need class weights."""
    counts = labels.value_counts(dropna=True)
    total = int(counts.sum())
    return [
        f"{labels.name}: class '{label}' is {count} of {total} rows "
        f"({100 * count / total:.1f}%, rare below data.rare_class_share {share:g}); "
        "the default gate weighs every class alike "
        "(f1_macro, balanced_accuracy); consider class_weight: balanced in model.params"
        for label, count in counts.items()
        if total and count / total < share
    ]


def thin_classes(classes: Any, y_test: pd.Series, minimum: int) -> list[str]:
    """The ``classes`` with fewer than ``minimum`` rows in the test split, as "'label' (n)"."""
    counts = y_test.value_counts()
    found = [(label, int(counts.get(label, 0))) for label in classes]
    return [f"'{label}' ({count})" for label, count in found if count < minimum]


@dataclass(frozen=True)
class Split:
    x_train: pd.DataFrame
    x_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series


def split(
    frame: pd.DataFrame,
    target: str,
    test_size: float,
    seed: int,
    stratify: bool,
    group: str | None = None,
    consume: bool = False,
) -> Split:
    """Deterministic train/test split (stratified for classification): the gate re-creates it.

    With a ``group`` column, every group lands on one side only (stratified by class as far as
    the groups allow), so the test score is that of groups the model has never seen. With
    ``consume``, each column leaves ``frame`` once it is split (the caller's last use of it):
    the rows then never exist twice, at 1M rows x 20 float32 columns 80 MB less at the peak.
    """
    import numpy as np
    from sklearn.model_selection import (
        GroupShuffleSplit,
        StratifiedGroupKFold,
        train_test_split,
    )

    labels = frame[target]
    if stratify:
        labels = _shared_labels(labels)
    if group is None:  # the positions train_test_split(frame, ...) would take
        train, test = train_test_split(
            np.arange(len(frame)),
            test_size=test_size,
            random_state=seed,
            stratify=labels if stratify else None,
        )
    else:
        groups = frame[group].astype(str)
        if stratify:
            folds = max(2, round(1 / test_size))
            splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
        else:
            splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
        train, test = next(splitter.split(frame, labels, groups))
    return _rows(frame, labels, train, test, consume)


def _rows(frame: pd.DataFrame, labels: pd.Series, train, test, consume: bool) -> Split:
    """The rows at positions ``train`` and ``test``, column by column (see ``split``); the
    labels share each side's index (one index object instead of two equal ones)."""
    import pandas as pd

    sides: list[tuple[Any, Any, dict[str, Any]]] = []
    for positions in (train, test):
        index = frame.index.take(positions)
        sides.append((positions, index, {}))
    for name in [name for name in frame.columns if name != labels.name]:
        column = frame[name]
        for positions, index, columns in sides:
            values = column.array.take(positions)
            columns[name] = pd.Series(values, index=index, name=name, dtype=column.dtype)
        del column
        if consume:
            del frame[name]
    x_train, x_test = (
        pd.DataFrame(columns, index=index, copy=False) for _, index, columns in sides
    )
    y_train, y_test = (
        pd.Series(labels.array.take(positions), index=index, name=labels.name, dtype=labels.dtype)
        for positions, index, _ in sides
    )
    return Split(x_train, x_test, y_train, y_test)


def _shared_labels(labels: pd.Series) -> pd.Series:
    """Text class labels as objects shared by every row of a class. scikit-learn turns labels
    into an object array; from pandas' (Arrow) text that is a new string per row (+50 MB at
    750k rows), from this one reference per row. Other labels are returned as they are."""
    import numpy as np
    import pandas as pd

    if labels.dtype.kind in "biuf":
        return labels
    codes, classes = pd.factorize(labels)
    values = np.asarray(classes, dtype=object)[codes]
    return pd.Series(values, index=labels.index, name=labels.name, dtype=object)


def checked_split(
    settings: Settings, frame: pd.DataFrame, schema: Schema, consume: bool = False
) -> Split:
    """The train/test split, after checking data.test_size leaves both sides usable
    (``consume``: the frame's columns move into the split, see data.split)."""
    target, size = settings.data.target, settings.data.test_size
    test_rows = math.ceil(size * len(frame))
    train_rows = len(frame) - test_rows
    classification = settings.task == "classification"
    needed = frame[target].nunique() if classification else 2
    what = f"{needed} classes" if classification else "a score"
    if min(test_rows, train_rows) < needed:
        raise ConfigError(
            f"data.test_size: {size} splits {len(frame)} rows into {train_rows} train / "
            f"{test_rows} test, too few for {what}: change it or add data"
        )
    group = next(iter(schema.names("group")), None)
    if group is not None:
        groups = frame[group].nunique()
        folds = max(2, round(1 / size)) if classification else 2
        if groups < folds:
            raise DataError(
                f"{group}: {groups} group(s), a grouped split with test_size {size} needs {folds}"
            )
    seed, known = settings.data.seed, frame[target].unique() if classification else ()
    parts = split(frame, target, size, seed, classification, group, consume=consume)
    if classification:
        # Every class in the test split, each often enough for its scores to mean something.
        minimum = settings.data.min_test_class_rows
        if thin := thin_classes(known, parts.y_test, minimum):
            raise DataError(
                f"{target}: the test split holds fewer than data.min_test_class_rows "
                f"({minimum}) rows of class {', '.join(thin)}: add rows of that class or raise "
                f"data.test_size (now {size})"
            )
    return parts


def training_parts(
    settings: Settings, frame: pd.DataFrame, schema: Schema, consume: bool = False
) -> tuple[Split, pd.Series | None]:
    """The split's model inputs, and the group of each training row (None without a group)."""
    parts = checked_split(settings, frame, schema, consume)
    features = list(schema.features(settings.data.target))
    group = next(iter(schema.names("group")), None)
    groups = parts.x_train[group] if group is not None else None
    parts = Split(parts.x_train[features], parts.x_test[features], parts.y_train, parts.y_test)
    return parts, groups
