"""Dataset I/O: write the bundled sample, read a CSV in the configured dialect."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import CsvSettings
from .console import notice, progress
from .errors import DataError, UsageError
from .files import atomic
from .lineage import dvc_file
from .schema import NUMERIC

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
    dtypes: Mapping[str, str] | None = None,
    setting: str = "data.path",
    single: Collection[str] = frozenset(),
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
    path: Path, csv: CsvSettings, dtypes: Mapping[str, str], setting: str, rows: int
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


def _options(csv: CsvSettings, dtypes: Mapping[str, str] | None) -> dict[str, Any]:
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


def _single(frame: pd.DataFrame, single: Collection[str]) -> pd.DataFrame:
    """``frame`` with its numeric columns named in ``single`` as float32 (others unchanged)."""
    import numpy as np

    numeric = [
        name
        for name in single
        if name in frame and frame[name].dtype.kind in "if" and frame[name].dtype != np.float32
    ]
    return frame.astype(dict.fromkeys(numeric, np.float32)) if numeric else frame


def _read_in_chunks(path: Path, options: dict, single: Collection[str]) -> pd.DataFrame | None:
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
    with progress(f"reading {path}", "rows") as advance:
        for chunk in pd.read_csv(path, chunksize=CHUNK_ROWS, **options):
            names = list(chunk.columns)
            rows = _store(chunk, rows, capacity, arrays, pieces, single)
            advance(rows)
    if rows == 0:
        return None
    columns = {
        name: arrays[name][:rows] if name in arrays else pd.concat(pieces[name], ignore_index=True)
        for name in names
    }
    return _single(pd.DataFrame(columns, copy=False), single)


def _store(
    chunk: pd.DataFrame,
    rows: int,
    capacity: int,
    arrays: dict,
    pieces: dict,
    single: Collection[str],
) -> int:
    """Put ``chunk`` (the rows after the first ``rows``) into ``arrays`` or ``pieces``; return
    the rows stored so far."""
    import numpy as np
    import pandas as pd

    end = rows + len(chunk)
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
    return end


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
