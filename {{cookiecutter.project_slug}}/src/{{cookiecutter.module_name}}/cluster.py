"""Where parallel work runs: on the Dask cluster a scheduler address names, else on this machine.

``DASK_SCHEDULER_ADDRESS`` (or ``dask.scheduler`` in config/pipeline.yaml) names the scheduler.
The search's fits go there through joblib's Dask backend (scikit-learn's ``n_jobs`` work), and
``make predict`` sends its chunks there (batch.py). Dask is the optional ``dask`` extra: nothing
here imports it unless an address is set. No MLflow here: only this machine talks to MLflow.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .config import DaskSettings
from .errors import SchedulerUnreachable, UsageError

ADDRESS_VARIABLE = "DASK_SCHEDULER_ADDRESS"


def address(settings: DaskSettings) -> str | None:
    """The scheduler to use: DASK_SCHEDULER_ADDRESS, else dask.scheduler; None: this machine."""
    return os.environ.get(ADDRESS_VARIABLE, "").strip() or settings.scheduler or None


def _where(settings: DaskSettings) -> str:
    return ADDRESS_VARIABLE if os.environ.get(ADDRESS_VARIABLE, "").strip() else "dask.scheduler"


@contextmanager
def connected(settings: DaskSettings) -> Iterator[Any]:
    """A ``distributed.Client`` of the named scheduler (closed on exit), or None when none is
    named. UsageError when Dask is not installed or the address is not one; SchedulerUnreachable
    (exit 5) when the scheduler does not answer within dask.connect_timeout seconds."""
    named = address(settings)
    if named is None:
        yield None
        return
    where = _where(settings)
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(
            f"{where} is set ({named}) but Dask is not installed: "
            "make install (its dev extra brings Dask) or pip install '.[dask]', "
            "or unset it to run here"
        ) from None
    timeout = settings.connect_timeout
    try:
        client = Client(named, timeout=timeout)
    except OSError as error:
        raise SchedulerUnreachable(
            f"Dask scheduler {named} ({where}) did not answer within {timeout:g} s "
            f"({error}): start it, fix the address, or unset it to run here"
        ) from None
    except (ValueError, TypeError) as error:  # a malformed address, or tls:// without TLS config
        raise UsageError(f"{where}: {named} is not a usable Dask address ({error})") from None
    try:
        yield client
    finally:
        client.close()


@contextmanager
def joblib_jobs(settings: DaskSettings, n_jobs: int | None) -> Iterator[int | None]:
    """Run joblib work (scikit-learn's ``n_jobs``) inside the block on the cluster when one is
    named; yield the ``n_jobs`` to give scikit-learn: -1 there (every worker thread),
    ``n_jobs`` on this machine. ``n_jobs`` None: no parallel work, no cluster (None)."""
    if n_jobs is None:
        yield None
        return
    with connected(settings) as client:
        if client is None:
            yield n_jobs
            return
        from joblib import parallel_config

        # The documented route: the Dask backend submits to the default client (this one).
        with parallel_config(backend="dask"):
            yield -1


def workers(client: Any) -> int:
    """How many worker threads the cluster has now (at least 1)."""
    return max(1, sum(client.nthreads().values()))
