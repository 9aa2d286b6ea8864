"""MLflow behind one module: tracking URI, the training run, model logging, the registry."""

from __future__ import annotations

import json
import os
import socket
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import mlflow
from mlflow.entities import DatasetInput, InputTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

from . import cancel, model_files
from .config import Settings, experiment_name, tracking_uri
from .console import notice, warning
from .core import contract
from .errors import RegistryError
from .timings import timed


@dataclass(frozen=True)
class LoggedRun:
    run_id: str
    model_uri: str
    experiment_id: str


def connect(settings: Settings) -> MlflowClient:
    # MLflow's defaults retry an unreachable server for about 250 s; the config bounds it.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(settings.tracking.request_retries))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(settings.tracking.request_timeout))
    # A progress bar per downloaded file is noise in a log (and in a terminal, for small files).
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    mlflow.set_tracking_uri(tracking_uri(settings))
    return MlflowClient()


def _database(uri: str) -> bool:
    """A tracking URI of MLflow's SQLAlchemy store (SQLite, PostgreSQL, MySQL, MSSQL)."""
    from mlflow.store.db.db_types import DATABASE_ENGINES

    return urlparse(uri).scheme.partition("+")[0] in DATABASE_ENGINES


def preload(settings: Settings) -> None:
    """Import what logging a model needs, up front (timed as imports): the tracking store
    behind the URI (SQLAlchemy for a database, REST for a server), MLflow's scikit-learn flavor
    and skops."""
    import mlflow.sklearn  # noqa: F401
    import skops.io  # noqa: F401

    if _database(tracking_uri(settings)):
        import mlflow.store.tracking.sqlalchemy_store  # noqa: F401


def first_line(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return message.strip().splitlines()[0]


@contextmanager
def failing_closed(what: str) -> Iterator[None]:
    """Any tracking-server or registry error while doing ``what`` → RegistryError (exit 5)."""
    try:
        yield
    except RegistryError:
        raise
    except (MlflowException, OSError) as error:
        raise RegistryError(f"{what}: {first_line(error)}") from None


def infer_signature(*args: Any) -> Any:
    """MLflow's signature inference without its hint about integer columns: the predict-time
    contract (core/contract.py), not the signature, checks missing values in integer columns."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        return mlflow.models.infer_signature(*args)


def log_training_run(
    settings: Settings,
    *,
    model: Any,
    dataset: Any,
    x_example: Any,
    params: dict[str, Any],
    metrics: dict[str, float],
    tags: dict[str, str],
    figures: Callable[[], list[Path]],
    metadata: dict[str, Any],
    documents: dict[str, dict[str, Any]] | None = None,
    children: Sequence[tuple[dict[str, Any], dict[str, float]]] = (),
) -> LoggedRun:
    """One MLflow run: params, metrics, the data input (``dataset``, from training_dataset),
    ``documents`` (JSON artifacts by path, e.g. the monitoring reference), a child run per
    searched candidate (params, metrics), the model (skops) with ``metadata`` (the predict-time
    contract) in its MLmodel file, and the figures ``figures()`` draws once the model is logged."""
    with failing_closed("logging the training run"):
        with timed("mlflow_logging"):
            connect(settings)
            experiment = mlflow.set_experiment(experiment_name(settings))
        # An exception inside (a server error, a cancelled job) ends the run FAILED; cancellation
        # is raised only between tracking calls (see cancel.py).
        with cancel.held() as checkpoint, _open_run(settings) as run:
            checkpoint()
            with timed("mlflow_logging"):
                mlflow.set_tags(tags)
                mlflow.log_params(params)
                mlflow.log_metrics(metrics)
                checkpoint()
                context = InputTag(MLFLOW_DATASET_CONTEXT, "training")
                MlflowClient().log_inputs(run.info.run_id, [DatasetInput(dataset, [context])])
                for path, document in (documents or {}).items():
                    checkpoint()
                    mlflow.log_dict(document, path)
                _log_children(children, checkpoint)
            checkpoint()
            with timed("model_logging"):
                example = contract.as_double(x_example.head(5))
                info = mlflow.sklearn.log_model(
                    model,
                    name="model",
                    signature=infer_signature(example, model.predict(example)),
                    input_example=example,
                    conda_env=model_files.environment(),
                    serialization_format="skops",
                    skops_trusted_types=_own_types(model),
                    metadata=metadata,
                )
            checkpoint()  # cancelled while the model was logged: the run still ends FAILED
            with timed("figures"):
                drawn = figures()
            for figure in drawn:
                mlflow.log_artifact(str(figure), artifact_path="figures")
                checkpoint()
        return LoggedRun(run.info.run_id, info.model_uri, experiment.experiment_id)


# Names the run a command has open, while it is open (see _open_run).
OPEN_RUN = ".open_run.json"


@contextmanager
def _open_run(settings: Settings, name: str | None = None) -> Iterator[Any]:
    """``mlflow.start_run``, noted in reports/.open_run.json until the run ends. A process killed
    meanwhile (SIGKILL, out of memory) cannot end its run; the next command that logs ends it
    FAILED (end_abandoned), so no run stays RUNNING for ever."""
    end_abandoned(settings)
    note = settings.reports_dir / OPEN_RUN
    note.parent.mkdir(parents=True, exist_ok=True)
    with mlflow.start_run(run_name=name) as run:
        owner = {"run_id": run.info.run_id, "pid": os.getpid(), "host": socket.gethostname()}
        note.write_text(json.dumps(owner))
        yield run
    note.unlink(missing_ok=True)


def end_abandoned(settings: Settings) -> None:
    """End FAILED the run reports/.open_run.json names, if it is still RUNNING and no live
    process on this machine owns it: a command killed while logging left it."""
    note = settings.reports_dir / OPEN_RUN
    try:
        owner = json.loads(note.read_text())
        run_id, pid, host = owner["run_id"], int(owner["pid"]), owner["host"]
    except FileNotFoundError:
        return
    except (OSError, ValueError, KeyError, TypeError):  # not what _open_run writes
        note.unlink(missing_ok=True)
        return
    if host == socket.gethostname() and pid != os.getpid() and cancel.alive(pid):
        return
    client = MlflowClient()
    try:
        if client.get_run(run_id).info.status == "RUNNING":
            client.set_terminated(run_id, "FAILED")
            notice(
                "Abandoned run", f"run {run_id} was left RUNNING by a killed command: ended FAILED"
            )
    except MlflowException as error:
        # Another store, or a run this identity may not end: said once, and the new run goes on.
        if error.error_code != "RESOURCE_DOES_NOT_EXIST":
            warning("Abandoned run", f"run {run_id} could not be ended: {first_line(error)}")
    note.unlink(missing_ok=True)


def _log_children(children: Sequence[tuple[dict[str, Any], dict[str, float]]], checkpoint) -> None:
    """One nested run per (params, metrics): the candidates of a search."""
    for number, (params, metrics) in enumerate(children, start=1):
        checkpoint()
        with mlflow.start_run(nested=True, run_name=f"candidate-{number}"):
            mlflow.log_params(params)
            mlflow.log_metrics(metrics)


def log_run(
    settings: Settings,
    *,
    name: str,
    params: dict[str, Any],
    metrics: dict[str, float],
    tags: dict[str, str],
    files: Sequence[Path] = (),
    children: Sequence[tuple[dict[str, Any], dict[str, float]]] = (),
) -> LoggedRun:
    """A run without a model (a search, a monitoring or evaluation run), in the experiment of
    this identity (``experiment_name``); it writes nothing to any logged model, which least
    privilege keeps read-only for the identities that monitor."""
    with failing_closed(f"logging the {name} run"):
        connect(settings)
        experiment = mlflow.set_experiment(experiment_name(settings))
        with cancel.held() as checkpoint, _open_run(settings, name) as run:
            mlflow.set_tags(tags)
            mlflow.log_params(params)
            mlflow.log_metrics(metrics)
            for path in files:
                checkpoint()
                mlflow.log_artifact(str(path))
            _log_children(children, checkpoint)
            checkpoint()
        return LoggedRun(run.info.run_id, "", experiment.experiment_id)


# The monitoring reference profile, an artifact of every training run (see core/drift.py).
REFERENCE_PATH = "monitoring/reference.json"


def load_reference(run_id: str) -> dict[str, Any]:
    """The monitoring reference profile that training logged with run ``run_id``."""
    return load_document(run_id, REFERENCE_PATH, "monitoring reference")


def load_document(run_id: str, path: str, what: str) -> dict[str, Any]:
    """A JSON artifact of a run (RegistryError naming ``what`` when it cannot be read)."""
    with failing_closed(f"cannot read the {what} of run {run_id}"):
        return mlflow.artifacts.load_dict(f"runs:/{run_id}/{path}")


def training_dataset(settings: Settings, frame: Any, digest: str) -> Any:
    """The training data as an MLflow dataset entity, without MLflow's per-value Python passes,
    and holding no reference to ``frame`` (so train can drop the frame once it is split).

    MLflow hashes ``frame.map(type)`` for its digest and infers the schema value by value: 37 s
    and 5x the frame's memory at 1M rows. The file's SHA-256 is a better digest, and the frame was
    just validated against the declared schema, so a sample carries the same column types; the
    profile (rows, values) is the whole frame's.
    """
    from mlflow.data.pandas_dataset import from_pandas
    from mlflow.entities import Dataset

    with warnings.catch_warnings():
        # MLflow registers the local-file source class twice and warns about its own choice.
        warnings.filterwarnings("ignore", message="The specified dataset source")
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        sample = from_pandas(
            contract.as_double(frame.head(1000)),
            source=str(settings.data.path),
            targets=settings.data.target,
            name=settings.data.path.name,
            digest=digest,
        )
        entity = sample.to_dict()  # name, digest, source type, source, schema, profile
    entity["profile"] = json.dumps({"num_rows": len(frame), "num_elements": int(frame.size)})
    return Dataset(**entity)


def _own_types(model: Any) -> list[str]:
    """Types skops does not trust by default but that this freshly trained model contains."""
    import skops.io as skops_io

    return skops_io.get_untrusted_types(data=skops_io.dumps(model))


def download_model(uri: str, destination: Path) -> Path:
    """Copy the MLflow model at ``uri`` (a run, logged-model or registry URI) to ``destination``."""
    destination.mkdir(parents=True, exist_ok=True)
    with failing_closed(f"cannot download {uri}"):
        path = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(destination))
    return Path(path)


def run_details(
    settings: Settings, run_id: str
) -> tuple[dict[str, str], dict[str, float], dict[str, str]]:
    """Params, metrics and tags of a run."""
    with failing_closed(f"reading run {run_id}"):
        run = connect(settings).get_run(run_id)
    return run.data.params, run.data.metrics, run.data.tags
