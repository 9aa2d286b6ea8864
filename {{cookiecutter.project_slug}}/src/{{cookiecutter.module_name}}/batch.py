"""Scoring a CSV of any length: read, checked and scored in chunks, here or on a Dask cluster.

Memory is bounded by the chunk (``predict.chunk_rows``), not by the file. The predictions are
written in input order to a scratch file that replaces the output only when every chunk passed:
an error leaves no output. The warnings and errors are those of the whole input (the chunks'
tallies add up), each said once. With a Dask scheduler named (cluster.py), this machine reads
the chunks and the workers check and score them (a few chunks in flight per worker thread): the
workers need the project's package, not the file. No MLflow here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any

import pandas as pd

from . import cluster
from .config import Settings
from .core import contract
from .errors import DataError, SchedulerUnreachable, UsageError
from .files import atomic

# Chunks in flight on the cluster per worker thread: enough to keep the workers busy while this
# machine reads and writes, few enough to bound its memory.
IN_FLIGHT_PER_THREAD = 2


@dataclass
class Scored:
    """One frame's predictions (id columns, prediction, proba_<class>) and what its check
    counted; ``frame`` is None when it holds wrong-typed values or was only counted."""

    frame: pd.DataFrame | None
    tally: contract.Tally = field(default_factory=contract.Tally)


@dataclass
class Written:
    rows: int
    warnings: list[str]


def score(
    model: Any, contract_: dict[str, Any], frame: pd.DataFrame, predict: bool = True
) -> Scored:
    """Check ``frame`` against the contract and score it (only count, without ``predict``). A
    frame with wrong-typed values is counted, not scored: the error is the whole input's to
    raise. DataError on missing columns, or when the model refuses the checked inputs."""
    try:
        checked = contract.check(contract_, frame)
    except DataError:
        tally = contract.count(contract_, frame)  # raises again for missing columns
        if tally.error(contract_) is None:
            raise
        return Scored(None, tally)
    if not predict:
        return Scored(None, checked.tally)
    try:
        out = pd.DataFrame({"prediction": model.predict(checked.features)}, index=frame.index)
        if hasattr(model, "predict_proba"):
            probabilities = model.predict_proba(checked.features).T
            for label, column in zip(model.classes_, probabilities, strict=True):
                out[f"proba_{label}"] = column
    except (ValueError, TypeError) as error:
        message = str(error).splitlines()[0]
        raise DataError(f"input does not match the model ({message})") from None
    return Scored(pd.concat([checked.ids, out], axis=1), checked.tally)


class _Output:
    """Scored chunks, in input order, appended to an open CSV while no chunk has failed."""

    def __init__(self, stream: IO[str], contract_: dict[str, Any], source: Path, target: Path):
        self.stream, self.contract, self.source, self.target = stream, contract_, source, target
        self.tally, self.rows = contract.Tally(), 0

    @property
    def failing(self) -> bool:
        return self.tally.error(self.contract) is not None

    def add(self, scoring: Callable[[], Scored]) -> None:
        """Take the next chunk's result (``scoring()``); a refusal names the input."""
        try:
            scored = scoring()
        except DataError as error:  # the contract or the model refused the chunk
            raise DataError(f"{self.source}: {error}") from None
        self.tally = self.tally + scored.tally
        if self.failing or scored.frame is None:
            return
        try:
            scored.frame.to_csv(self.stream, header=self.rows == 0, index=False)
        except OSError as error:
            raise _unwritable(self.target, error) from None
        self.rows += len(scored.frame)


def predict_csv(
    settings: Settings, source: Path, target: Path, model: Any, contract_: dict[str, Any]
) -> Written:
    """Score ``source`` into ``target`` chunk by chunk: id columns, prediction, probabilities.
    DataError (naming ``source``) if it breaks the contract; ``target`` is then left as it was."""
    from . import data

    dtypes = {name: entry["dtype"] for name, entry in contract_["features"].items()}
    dtypes |= dict.fromkeys(contract_["ids"], "str")  # an id such as 007 stays 007
    rows = settings.predict.chunk_rows
    chunks = data.read_csv_chunks(source, settings.data.csv, dtypes, "--input", rows)
    with cluster.connected(settings.dask) as client:
        try:
            with atomic(target) as scratch, scratch.open("w", encoding="utf-8", newline="") as out:
                output = _Output(out, contract_, source, target)
                if client is None:
                    for chunk in chunks:
                        output.add(partial(score, model, contract_, chunk, not output.failing))
                else:
                    _on_cluster(client, model, contract_, chunks, output)
                if error := output.tally.error(contract_):
                    raise DataError(f"{source}: {error}")
        except OSError as error:  # the scratch file could not be opened or renamed
            raise _unwritable(target, error) from None
    return Written(output.rows, output.tally.warnings(contract_))


def _on_cluster(client: Any, model: Any, contract_: dict, chunks: Any, output: _Output) -> None:
    """Each chunk checked and scored as a task on the cluster; results taken in input order."""
    try:
        remote_model = client.scatter(model, broadcast=True)  # sent to each worker once
        limit = IN_FLIGHT_PER_THREAD * cluster.workers(client)
        pending: deque = deque()
        for chunk in chunks:
            failing = output.failing  # then the rest is only counted
            task = client.submit(score, remote_model, contract_, chunk, not failing, pure=False)
            pending.append(task)
            while len(pending) >= limit:
                output.add(pending.popleft().result)
        while pending:
            output.add(pending.popleft().result)
    except OSError as error:  # the connection to the scheduler was lost (reading and writing
        # errors are the pipeline's own by now)
        raise SchedulerUnreachable(f"lost the Dask scheduler while predicting ({error})") from None


def _unwritable(target: Path, error: OSError) -> UsageError:
    return UsageError(f"--output {target}: cannot write ({error.strerror or error})")
