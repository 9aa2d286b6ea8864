"""Dataset I/O: write the bundled sample, read a CSV, hash it, split it reproducibly."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import DataError

CHUNK_ROWS = 50_000
IRIS_COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def write_sample(task: str, path: Path) -> Path:
    """Write scikit-learn's bundled sample (iris or diabetes) as CSV; no network needed."""
    from sklearn import datasets

    if task == "classification":
        bunch = datasets.load_iris(as_frame=True)
        frame = bunch.frame.set_axis([*IRIS_COLUMNS, "target"], axis=1)
        frame["target"] = bunch.target_names[bunch.target]
    else:
        frame = datasets.load_diabetes(as_frame=True, scaled=False).frame
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV, turning every way it can be unusable into one-line DataError."""
    try:
        # In chunks: the parser's buffers stay small (at 1M rows, half the peak of one read).
        chunks = list(pd.read_csv(path, chunksize=CHUNK_ROWS))
        if len(chunks) == 1:
            return chunks[0]
        return pd.concat(chunks, ignore_index=True) if chunks else pd.read_csv(path)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found (run `make data` for the sample)") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a readable CSV ({str(error).splitlines()[0]})") from None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Split:
    x_train: pd.DataFrame
    x_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series


def split(frame: pd.DataFrame, target: str, test_size: float, seed: int, stratify: bool) -> Split:
    """Deterministic train/test split (stratified for classification): the gate re-creates it."""
    from sklearn.model_selection import train_test_split

    features, labels = frame.drop(columns=[target]), frame[target]
    x_train, x_test, y_train, y_test = train_test_split(
        features,
        labels,
        test_size=test_size,
        random_state=seed,
        stratify=labels if stratify else None,
    )
    return Split(x_train, x_test, y_train, y_test)
