"""Where parallel work runs: on the Dask cluster a scheduler address names, else on this machine.

``DASK_SCHEDULER_ADDRESS`` (or ``dask.scheduler`` in config/pipeline.yaml) names the scheduler.
The search's fits go there through joblib's Dask backend (scikit-learn's ``n_jobs`` work), and
``make predict`` sends its chunks there (batch.py). Dask is the optional ``dask`` extra: nothing
here imports it unless an address is set. No MLflow here: only this machine talks to MLflow.
"""

from __future__ import annotations

import os
import warnings
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
        from distributed.versions import VersionMismatchWarning
    except ImportError:
        raise UsageError(
            f"{where} is set ({named}) but Dask is not installed: "
            "make install (its dev extra brings Dask) or pip install '.[dask]', "
            "or unset it to run here"
        ) from None
    timeout = settings.connect_timeout
    try:
        with warnings.catch_warnings():
            # Dask's table of version differences: _check_workers says what matters, in a line.
            warnings.simplefilter("ignore", VersionMismatchWarning)
            client = Client(named, timeout=timeout)
    except OSError as error:
        raise SchedulerUnreachable(
            f"Dask scheduler {named} ({where}) did not answer within {timeout:g} s "
            f"({error}): start it, fix the address, or unset it to run here"
        ) from None
    except (ValueError, TypeError) as error:  # a malformed address, or tls:// without TLS config
        raise UsageError(f"{where}: {named} is not a usable Dask address ({error})") from None
    try:
        _check_workers(client, f"the Dask scheduler {named}", where, timeout)
        yield client
    except KilledWorker:
        raise WorkersUnfit(
            f"a worker of the Dask scheduler {named} died running this command's tasks "
            f"(KilledWorker): see the workers' logs, or unset {where} to run here"
        ) from None
    finally:
        client.close()


# What every worker must share with this machine, besides Python's minor version: Dask's own
# packages and those whose objects a task carries (the fitted pipeline, the chunks).
SAME_VERSIONS = ("dask", "distributed", "cloudpickle", "scikit-learn", "pandas", "numpy")


def _check_workers(client: Any, scheduler: str, where: str, timeout: float) -> None:
    """WorkersUnfit unless the scheduler has a worker (one joins within ``timeout`` seconds) and
    every worker can import this package with this machine's SAME_VERSIONS. A worker that cannot
    unpickle a task dies instead of failing it (and again on each retry), so this is asked
    before any task, with the standard library only. Checked once, when the command connects:
    workers that join later are not."""
    from importlib.machinery import ModuleSpec
    from importlib.util import find_spec

    fix = (
        "install this project's package and the versions uv.lock pins on the workers "
        f"(README, 'Running on a Dask cluster'), or unset {where} to run here"
    )
    package = __name__.partition(".")[0]
    try:
        client.wait_for_workers(1, timeout=timeout)
        specs = client.run(find_spec, package, on_error="return")
        versions = client.get_versions(packages=["scikit-learn"])
    except TimeoutError:  # wait_for_workers (TimeoutError is an OSError: handled first)
        raise WorkersUnfit(
            f"{scheduler} has no worker (none joined within {timeout:g} s): start workers, "
            f"or unset {where} to run here"
        ) from None
    except OSError as error:
        raise SchedulerUnreachable(f"lost {scheduler} while asking its workers ({error})") from None
    if lacking := sorted(w for w, spec in specs.items() if not isinstance(spec, ModuleSpec)):
        raise WorkersUnfit(
            f"{len(lacking)} of {len(specs)} worker(s) of {scheduler} cannot import {package} "
            f"({lacking[0]}): {fix}"
        )
    ours = _compared(versions["client"]["packages"])
    for worker, info in sorted(versions["workers"].items()):
        theirs = _compared(info["packages"])
        for name, mine in ours.items():
            if theirs[name] != mine:
                raise WorkersUnfit(
                    f"worker {worker} of {scheduler} has {name} "
                    f"{theirs[name] or 'not installed'}, this machine {mine}: {fix}"
                )


def _compared(packages: dict[str, Any]) -> dict[str, str | None]:
    """The versions _check_workers compares, from a distributed.versions report: Python's minor
    version ("3.11" of "3.11.7.final.0"; what pickles need) and each of SAME_VERSIONS."""
    python = ".".join(str(packages.get("python", "")).split(".")[:2])
    return {"python": python} | {name: packages.get(name) for name in SAME_VERSIONS}


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
