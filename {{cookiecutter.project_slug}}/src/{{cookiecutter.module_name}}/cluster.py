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
from .errors import SchedulerUnreachable, UsageError, WorkersUnfit

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
    (exit 5) when the scheduler does not answer within dask.connect_timeout seconds;
    WorkersUnfit (exit 5) when its workers cannot run this project's tasks (_check_workers), or
    one dies running them."""
    named = address(settings)
    if named is None:
        yield None
        return
    where = _where(settings)
    try:
        from distributed import Client, KilledWorker
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
        _check_workers(client, named, where)
        yield client
    except KilledWorker as error:
        raise WorkersUnfit(
            f"a worker of the Dask scheduler {named} died running this command's tasks "
            f"({str(error).splitlines()[0]}): see the workers' logs, or unset {where} to run here"
        ) from None
    finally:
        client.close()


# Packages whose objects a task carries to the workers (the fitted pipeline, the chunks):
# a worker must have this machine's versions. Dask compares its own with client.get_versions.
WORKER_PACKAGES = ("scikit-learn", "pandas", "numpy")


def _check_workers(client: Any, named: str, where: str) -> None:
    """WorkersUnfit unless every worker can import this package and has this machine's
    WORKER_PACKAGES versions: a worker that cannot unpickle a task dies instead of failing it
    (and again on each retry), so this is asked first, with the standard library only."""
    from importlib.metadata import version
    from importlib.util import find_spec

    fix = (
        "install this project's package and the versions uv.lock pins on the workers "
        f"(README, 'Running on a Dask cluster'), or unset {where} to run here"
    )
    package = __name__.partition(".")[0]
    specs = client.run(find_spec, package)
    if lacking := sorted(worker for worker, spec in specs.items() if spec is None):
        raise WorkersUnfit(
            f"{len(lacking)} of {len(specs)} worker(s) of the Dask scheduler {named} cannot "
            f"import {package} ({lacking[0]}): {fix}"
        )
    for name in WORKER_PACKAGES:
        ours = version(name)
        found = client.run(version, name, on_error="return")
        if other := sorted((w, v) for w, v in found.items() if v != ours):
            worker, theirs = other[0]
            shown = theirs if isinstance(theirs, str) else "not installed"
            raise WorkersUnfit(
                f"worker {worker} of the Dask scheduler {named} has {name} {shown}, "
                f"this machine {ours}: {fix}"
            )


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
