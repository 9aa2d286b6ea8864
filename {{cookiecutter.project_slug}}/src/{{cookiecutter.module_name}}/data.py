"""Dataset I/O: write the bundled sample, read a CSV, name its version, split it reproducibly."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .config import NUMERIC, CsvSettings
from .console import notice
from .errors import DataError, UsageError
from .files import atomic

if TYPE_CHECKING:  # pandas is imported where a frame is read: `make data-pull` never needs it
    import pandas as pd

CHUNK_ROWS = 20_000
IRIS_COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
# Where each task's bundled sample lives: the only path a stage ever writes the sample to by itself.
SAMPLE_PATHS = {
    "classification": Path("data/raw/iris.csv"),
    "regression": Path("data/raw/diabetes.csv"),
}


def write_sample(task: str, path: Path, force: bool = False) -> Path:
    """Write scikit-learn's bundled sample (iris or diabetes) as CSV; never over a file by default.

    The file appears whole or not at all (written next to ``path``, then renamed).
    """
    from sklearn import datasets

    if path.is_dir():
        raise UsageError(f"{path} is a folder: data.path must name a CSV file")
    if path.exists() and not force:
        raise UsageError(
            f"{path} exists: not replacing it with the sample (make data FORCE=1 to overwrite)"
        )
    if task == "classification":
        bunch = datasets.load_iris(as_frame=True)
        frame = bunch.frame.set_axis([*IRIS_COLUMNS, "target"], axis=1)
        frame["target"] = bunch.target_names[bunch.target]
    else:
        frame = datasets.load_diabetes(as_frame=True, scaled=False).frame
    with atomic(path) as partial:
        frame.to_csv(partial, index=False)
    return path


def ensure(task: str, path: Path, why: str = "no data at {path}") -> None:
    """Give a stage something to read: the sample, only at its own path and only if none is there.

    Data DVC tracks is never replaced by the sample: missing, it must be pulled, and ``read_csv``
    says so, as it reports any other missing file. ``why`` starts the notice.
    """
    if path.exists() or path != SAMPLE_PATHS[task] or dvc_file(path).exists():
        return
    write_sample(task, path)
    notice("Sample data", f"{why.format(path=path)}: wrote the bundled sample there")


def read_csv(
    path: Path,
    csv: CsvSettings | None = None,
    dtypes: dict[str, str] | None = None,
    setting: str = "data.path",
    single: set[str] = frozenset(),
) -> pd.DataFrame:
    """Read a CSV in the configured dialect, turning every way it can be unusable into one line.

    With ``dtypes`` (column → schema dtype), category, text, bool and date columns are read as
    text, so a code such as 007 stays 007 and parsing is the schema's business, not the CSV
    reader's. Numeric columns named in ``single`` are held as float32 (schema precision:
    single), each value rounded from what float64 parsing gives. ``setting`` names where
    ``path`` came from, for the error about a folder.
    """
    import pandas as pd

    csv = csv or CsvSettings()
    options = _options(csv, dtypes)
    with _reading(path, csv, setting):
        _check_header(path, csv)
        frame = _read_in_chunks(path, options, single)
        if frame is None:  # a header and no rows
            frame = _single(pd.read_csv(path, **options), single)
    _check_dialect(path, frame, csv)
    return frame


def read_csv_chunks(
    path: Path, csv: CsvSettings, dtypes: dict[str, str], setting: str, rows: int
) -> Iterator[pd.DataFrame]:
    """``read_csv`` ``rows`` rows at a time: the frames it would give, cut in order (a header
    and no rows: one empty frame), with the same one-line errors. Memory: one chunk at a time."""
    import pandas as pd

    options = _options(csv, dtypes)
    with _reading(path, csv, setting):
        _check_header(path, csv)
        for number, chunk in enumerate(pd.read_csv(path, chunksize=rows, **options)):
            if number == 0:
                _check_dialect(path, chunk, csv)
            yield chunk


def _options(csv: CsvSettings, dtypes: dict[str, str] | None) -> dict[str, Any]:
    options: dict[str, Any] = {
        "sep": csv.sep,
        "decimal": csv.decimal,
        "thousands": csv.thousands,
        "encoding": csv.encoding,
    }
    if dtypes:
        options["dtype"] = {name: str for name, dtype in dtypes.items() if dtype not in NUMERIC}
    return options


@contextmanager
def _reading(path: Path, csv: CsvSettings, setting: str) -> Iterator[None]:
    """Every way reading ``path`` can fail, as one line (DataError, or UsageError for a folder)."""
    import pandas as pd

    try:
        yield
    except FileNotFoundError:
        if dvc_file(path).exists():
            raise DataError(f"{path}: not here but tracked by DVC: run `make data-pull`") from None
        raise DataError(f"{path}: file not found (data.path in config/pipeline.yaml)") from None
    except IsADirectoryError:
        raise UsageError(f"{setting}: {path} is a folder, not a CSV file") from None
    except OSError as error:  # no permission to read it, a disk error
        raise DataError(f"{path}: cannot read it ({error.strerror or error})") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except UnicodeDecodeError as error:
        raise DataError(
            f"{path}: not {csv.encoding} text (byte {error.object[error.start]:#x} at offset "
            f"{error.start}): set data.csv.encoding in config/pipeline.yaml, e.g. latin-1"
        ) from None
    except (pd.errors.ParserError, ValueError) as error:
        raise DataError(f"{path}: not a readable CSV ({str(error).splitlines()[0]})") from None


# A header longer or wider than this is not a table's: it is refused before pandas allocates a
# column for each field (a 3-million-column header would take minutes and gigabytes).
MAX_HEADER_BYTES = 1 << 20
MAX_COLUMNS = 10_000


def _check_header(path: Path, csv: CsvSettings) -> None:
    with path.open("rb") as stream:
        header = stream.readline(MAX_HEADER_BYTES + 1)
    if len(header) > MAX_HEADER_BYTES:
        raise DataError(
            f"{path}: the first line is longer than {MAX_HEADER_BYTES:,} bytes: "
            "not a CSV header (wrong file, or data.csv.sep?)"
        )
    try:
        fields = header.count(csv.sep.encode(csv.encoding)) + 1
    except (LookupError, UnicodeError):  # an unknown encoding is reported by the reader
        return
    if fields > MAX_COLUMNS:
        raise DataError(
            f"{path}: the header has {fields:,} columns (at most {MAX_COLUMNS:,}): "
            "not a table this project trains on (wrong file, or data.csv.sep?)"
        )


def _single(frame: pd.DataFrame, single: set[str]) -> pd.DataFrame:
    """``frame`` with its numeric columns named in ``single`` as float32 (others unchanged)."""
    import numpy as np

    numeric = [
        name
        for name in single
        if name in frame and frame[name].dtype.kind in "if" and frame[name].dtype != np.float32
    ]
    return frame.astype(dict.fromkeys(numeric, np.float32)) if numeric else frame


def _read_in_chunks(path: Path, options: dict, single: set[str]) -> pd.DataFrame | None:
    """The CSV read in chunks (the parser's buffers stay small: one read of 1M rows peaks at 5x
    the frame) into numeric columns allocated once for every row the file can hold, so no
    second copy is ever made by concatenating; other columns are concatenated per column. The
    result is what one ``read_csv`` gives (then ``_single``). None for a header and no rows."""
    import numpy as np
    import pandas as pd

    capacity = _line_count(path)  # rows <= newlines + 1 (fewer when a quoted field has one)
    arrays: dict[str, np.ndarray] = {}  # numeric columns, filled in place
    pieces: dict[str, list] = {}  # the others: a piece per chunk, concatenated at the end
    rows, names = 0, []
    for chunk in pd.read_csv(path, chunksize=CHUNK_ROWS, **options):
        names, end = list(chunk.columns), rows + len(chunk)
        for name, values in chunk.items():
            array = arrays.get(name)
            kind = values.dtype.kind if values.dtype in (np.float64, np.int64) else None
            if array is not None and kind == "i" and array.dtype.kind == "f" and end <= capacity:
                array[rows:end] = values.to_numpy()  # ints in a float column: floats, as concat
            elif array is not None and kind == "f" and array.dtype.kind == "i" and end <= capacity:
                arrays[name] = array = array.astype(np.float64)  # a gap appeared: float, as concat
                array[rows:end] = values.to_numpy()
            elif array is not None and kind == array.dtype.kind and end <= capacity:
                array[rows:end] = values.to_numpy()
            elif array is not None:  # another type (or more rows than lines): as concat does
                pieces[name] = [pd.Series(arrays.pop(name)[:rows], name=name), values]
            elif rows == 0 and kind is not None:
                dtype = np.float32 if name in single else values.dtype
                arrays[name] = array = np.empty(max(capacity, end), dtype=dtype)
                array[:end] = values.to_numpy()
            else:
                pieces.setdefault(name, []).append(values)
        rows = end
    if rows == 0:
        return None
    columns = {
        name: arrays[name][:rows] if name in arrays else pd.concat(pieces[name], ignore_index=True)
        for name in names
    }
    return _single(pd.DataFrame(columns, copy=False), single)


def _line_count(path: Path) -> int:
    newlines = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            newlines += block.count(b"\n")
    return newlines + 1


def _check_dialect(path: Path, frame: pd.DataFrame, csv: CsvSettings) -> None:
    """A file read as one column whose header holds another separator was written with it."""
    if frame.shape[1] != 1:
        return
    header = str(frame.columns[0])
    for separator in (";", "\t", ",", "|"):
        if separator != csv.sep and separator in header:
            raise DataError(
                f"{path}: every row is one column, and the header contains {separator!r}: "
                f"the file looks {separator!r}-separated: set data.csv.sep in "
                "config/pipeline.yaml"
            )


def digests(path: Path) -> tuple[str, str]:
    """SHA-256 and MD5 of the file's bytes, in one pass (MD5 is what DVC 3 records)."""
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
            md5.update(block)
    return sha.hexdigest(), md5.hexdigest()


def sha256(path: Path) -> str:
    return digests(path)[0]


def dvc_file(path: Path) -> Path:
    """The DVC pointer file that versions ``path`` (it may not exist)."""
    return path.with_name(f"{path.name}.dvc")


def _dvc_record(path: Path) -> dict | None:
    """The output entry of ``path``'s .dvc file (md5, size), or None when DVC does not track it."""
    pointer = dvc_file(path)
    try:
        record = yaml.safe_load(pointer.read_text())["outs"][0]
        return {"md5": str(record["md5"]), "size": record.get("size")}
    except FileNotFoundError:
        return None
    except (yaml.YAMLError, TypeError, KeyError, IndexError):
        raise DataError(f"{pointer}: not a DVC file with an md5 (run `make data-push`)") from None


def dvc_md5(path: Path) -> str | None:
    """The MD5 that ``path``'s .dvc file records, or None when DVC does not track it."""
    record = _dvc_record(path)
    return None if record is None else str(record["md5"])


def dvc_size(path: Path) -> int | None:
    """The size in bytes that ``path``'s .dvc file records (None when it records none)."""
    record = _dvc_record(path) or {}
    return None if record.get("size") is None else int(record["size"])


LINEAGE_TAGS = ("data_sha256", "data_md5", "data_dvc_md5")


def lineage(path: Path) -> dict[str, str]:
    """Tags that name the exact data: the file's SHA-256 and MD5, and the MD5 its .dvc records.

    ``data_md5 == data_dvc_md5`` means the file is the version DVC tracks (and can pull again).
    """
    sha, md5 = digests(path)
    tags = {"data_sha256": sha, "data_md5": md5}
    if (recorded := dvc_md5(path)) is not None:
        tags["data_dvc_md5"] = recorded
    return tags


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

    sides = []
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
