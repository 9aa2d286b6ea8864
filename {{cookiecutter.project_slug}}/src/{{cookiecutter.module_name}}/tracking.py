"""MLflow behind one module: tracking URI, the training run, model logging, the registry."""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import mlflow
import pandas as pd
from mlflow.entities import DatasetInput, InputTag
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

from . import cancel, model_files
from .config import Settings
from .errors import RegistryError
from .timings import timed

# The model's runtime needs: explicit pins avoid MLflow's requirement inference (seconds per run).
MODEL_PACKAGES = ("mlflow", "scikit-learn", "skops", "pandas", "numpy", "scipy")


@dataclass(frozen=True)
class LoggedRun:
    run_id: str
    model_uri: str
    experiment_id: str


def tracking_uri(settings: Settings) -> str:
    """MLFLOW_TRACKING_URI wins over the config's default (a local SQLite file)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or settings.tracking.default_uri


def experiment_name(settings: Settings) -> str:
    """MLFLOW_EXPERIMENT_NAME (pull-request jobs: their own experiment) wins over the config's."""
    return os.environ.get("MLFLOW_EXPERIMENT_NAME") or settings.tracking.experiment


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


def _first_line(error: Exception) -> str:
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
        raise RegistryError(f"{what}: {_first_line(error)}") from None


def model_requirements() -> list[str]:
    return [f"{name}=={version(name)}" for name in MODEL_PACKAGES]


def model_environment() -> dict[str, Any]:
    """conda.yaml of the model, with the exact pins of its requirements.txt. Given whole (not as
    ``pip_requirements``), MLflow does not look up pip's own version -- absent from uv's
    environments, which made it warn on every training run."""
    pins = model_requirements()
    return {
        "name": "mlflow-env",
        "channels": ["conda-forge"],
        "dependencies": [f"python={platform.python_version()}", "pip", {"pip": pins}],
    }


def infer_signature(*args: Any) -> Any:
    """MLflow's signature inference without its hint about integer columns: the predict-time
    contract (contract.py), not the signature, checks missing values in integer columns."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        return mlflow.models.infer_signature(*args)


def as_double(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its float32 columns (schema precision: single) as float64, for the
    signature: it promises what a CSV or JSON request brings (doubles, which MLflow refuses to
    narrow to float), and the model scores either."""
    import numpy as np

    single = [name for name, dtype in frame.dtypes.items() if dtype == np.float32]
    return frame.astype(dict.fromkeys(single, np.float64)) if single else frame


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
    children: list[tuple[dict[str, Any], dict[str, float]]] = (),
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
        with cancel.held() as checkpoint, mlflow.start_run() as run:
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
                example = as_double(x_example.head(5))
                info = mlflow.sklearn.log_model(
                    model,
                    name="model",
                    signature=infer_signature(example, model.predict(example)),
                    input_example=example,
                    conda_env=model_environment(),
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


def _log_children(children: list[tuple[dict[str, Any], dict[str, float]]], checkpoint) -> None:
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
    files: list[Path] = (),
    children: list[tuple[dict[str, Any], dict[str, float]]] = (),
) -> LoggedRun:
    """A run without a model (a search, a monitoring or evaluation run), in the experiment of
    this identity (``experiment_name``); it writes nothing to any logged model, which least
    privilege keeps read-only for the identities that monitor."""
    with failing_closed(f"logging the {name} run"):
        connect(settings)
        experiment = mlflow.set_experiment(experiment_name(settings))
        with cancel.held() as checkpoint, mlflow.start_run(run_name=name) as run:
            mlflow.set_tags(tags)
            mlflow.log_params(params)
            mlflow.log_metrics(metrics)
            for path in files:
                checkpoint()
                mlflow.log_artifact(str(path))
            _log_children(children, checkpoint)
            checkpoint()
        return LoggedRun(run.info.run_id, "", experiment.experiment_id)


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
    from mlflow.entities import Dataset

    with warnings.catch_warnings():
        # MLflow registers the local-file source class twice and warns about its own choice.
        warnings.filterwarnings("ignore", message="The specified dataset source")
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        sample = mlflow.data.from_pandas(
            as_double(frame.head(1000)),
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


def run_link(settings: Settings, run: LoggedRun) -> str:
    """A browser link to the run when the tracking server is HTTP(S), else the run id."""
    uri = tracking_uri(settings)
    if uri.startswith(("http://", "https://")):
        return f"{uri.rstrip('/')}/#/experiments/{run.experiment_id}/runs/{run.run_id}"
    return f"run `{run.run_id}` (`make mlflow-ui` to browse)"


def load_version(settings: Settings, model_version: ModelVersion) -> tuple[Any, dict[str, Any]]:
    """The scikit-learn model of registry version ``model_version`` and its predict-time
    contract, from files whose digest matches the version's ``model_sha256`` tag and only if it is
    a skops model (model_files.verify): RegistryError naming the version otherwise, before
    anything in the files is deserialised."""
    name = settings.registry.model_name
    what = f"{name} version {model_version.version}"
    with tempfile.TemporaryDirectory() as scratch:
        directory = _download(settings, model_version, Path(scratch))
        try:
            flavor = model_files.verify(directory, model_version.tags.get(model_files.DIGEST_TAG))
        except model_files.Refused as error:
            raise RegistryError(f"refusing to load {what}: {error}") from None
        import skops.io

        try:
            model = skops.io.load(
                directory / model_files.SKOPS_FILE, trusted=flavor.get("skops_trusted_types")
            )
        except Exception as error:  # noqa: BLE001 -- skops raises many kinds; all mean "cannot"
            raise RegistryError(f"cannot load {what}: {_first_line(error)}") from None
        with failing_closed(f"cannot read the MLmodel file of {what}"):
            contract_ = _contract(mlflow.models.Model.load(str(directory)))
    return model, contract_


def verified_files(
    settings: Settings, model_version: ModelVersion, destination: Path
) -> dict[str, str]:
    """Copy registry version ``model_version`` into ``destination`` once its files match its
    ``model_sha256`` tag (RegistryError naming the version, and nothing copied, when they do not);
    the SHA-256 of each file, by path."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent) as scratch:
        directory = _download(settings, model_version, Path(scratch))
        try:
            model_files.verify(directory, model_version.tags.get(model_files.DIGEST_TAG))
        except model_files.Refused as error:
            what = f"{settings.registry.model_name} version {model_version.version}"
            raise RegistryError(f"refusing {what}: {error}") from None
        shutil.copytree(directory, destination, dirs_exist_ok=True)
        return model_files.file_digests(directory)


def _download(settings: Settings, model_version: ModelVersion, destination: Path) -> Path:
    connect(settings)
    uri = f"models:/{settings.registry.model_name}/{model_version.version}"
    return download_model(uri, destination)


def files_digest(model_uri: str) -> str:
    """The ``model_sha256`` of the model at ``model_uri``, refusing any model that is not a
    scikit-learn model saved with skops."""
    with tempfile.TemporaryDirectory() as scratch:
        directory = download_model(model_uri, Path(scratch))
        found = model_files.digest(model_files.file_digests(directory))
        try:
            model_files.verify(directory, found)
        except model_files.Refused as error:
            raise RegistryError(f"not registering {model_uri}: {error}") from None
    return found


def input_example(uri: str) -> pd.DataFrame:
    """The input example logged with the model (the columns a request needs, a few rows)."""
    with failing_closed(f"cannot read the input example of {uri}"):
        body = json.loads(mlflow.artifacts.load_text(f"{uri}/input_example.json"))
    return pd.DataFrame(body["data"], columns=body["columns"])


# MLflow signature types → schema dtypes, for models logged before the contract existed.
_SIGNATURE_DTYPES = {"double": "float", "float": "float", "long": "int", "integer": "int"}
_SIGNATURE_DTYPES |= {"boolean": "bool", "datetime": "datetime"}


def _contract(model: Any) -> dict[str, Any]:
    """The predict-time contract stored in a model's MLmodel file (see contract.py).

    A model logged without one gets a contract from its signature: its columns and types.
    """
    if "contract" in (model.metadata or {}):
        return model.metadata["contract"]
    features = {
        spec.name: {
            "dtype": _SIGNATURE_DTYPES.get(spec.type.name, "str"),
            "nullable": True,
        }
        for spec in model.signature.inputs.inputs
    }
    return {"features": features, "ids": []}


def version_by_alias(settings: Settings, alias: str) -> ModelVersion | None:
    """The version behind ``alias``; None only when the model or the alias does not exist.

    Every other answer (401/403, 5xx, no server) raises RegistryError: a gate that cannot read
    production must not pass as if there were none.
    """
    name = settings.registry.model_name
    with failing_closed(f"reading {name}@{alias}"):
        client = connect(settings)
        try:
            return client.get_model_version_by_alias(name, alias)
        except MlflowException as error:
            if error.error_code == "RESOURCE_DOES_NOT_EXIST":  # no such model
                return None
            if error.error_code != "INVALID_PARAMETER_VALUE":
                raise
            # The registry's answer for an unknown alias, among others: read the aliases back.
            if alias not in client.get_registered_model(name).aliases:
                return None
            raise


# The run param that claims a run's registration: params are write-once, so of several concurrent
# `register` calls exactly one can log its nonce; the others wait for its version.
CLAIM_PARAM = "registration_claim"


def register(
    settings: Settings, run: LoggedRun, tags: dict[str, str], wait: float = 60.0
) -> tuple[ModelVersion, bool]:
    """Register the run's model once, even under concurrency; tag it; point staging at it."""
    name = settings.registry.model_name
    with failing_closed(f"registering {name}"):
        client = connect(settings)
        model_version = _version_of_run(client, name, run.run_id)
        created = model_version is None
        if created:
            # Proves write access to the model before the claim: a refused identity must not
            # leave a claim behind that blocks the registrar.
            _mark_registering(client, name, run.run_id)
        if created and not _claim(client, run.run_id):
            model_version, created = _await_version(client, name, run.run_id, wait), False
        if created:
            # The digest goes in with the version: no later write is needed (or allowed, by the
            # server's guard) to record what the version is made of.
            tags = tags | {model_files.DIGEST_TAG: files_digest(run.model_uri)}
            # The client's call, not mlflow.register_model: that one prints two lines of its own.
            model_version = client.create_model_version(
                name,
                source=run.model_uri,
                run_id=run.run_id,
                tags=tags,
                model_id=run.model_uri.removeprefix("models:/"),
            )
        alias, number = settings.registry.staging_alias, str(model_version.version)
        _upsert(
            lambda: client.set_registered_model_alias(name, alias, number),
            lambda: client.get_registered_model(name).aliases.get(alias) == number,
        )
    return model_version, created


def _version_of_run(client: MlflowClient, name: str, run_id: str) -> ModelVersion | None:
    versions = client.search_model_versions(f"name='{name}' and run_id='{run_id}'")
    return min(versions, key=lambda v: int(v.version)) if versions else None


# What a write that lost a race to a concurrent writer of the same row answers: MLflow's stores
# select, then insert, so the loser hits the table's unique key (a database error, BAD_REQUEST),
# or finds the database locked (TEMPORARILY_UNAVAILABLE).
RETRIED = ("BAD_REQUEST", "TEMPORARILY_UNAVAILABLE")


def _upsert(write: Callable[[], None], written: Callable[[], bool], attempts: int = 5) -> None:
    """Run ``write`` (an idempotent upsert); after an error of RETRIED, done if ``written()``
    reads the value back (a concurrent writer set it), else tried again."""
    for attempt in range(attempts):
        try:
            write()
            return
        except MlflowException as error:
            if error.error_code not in RETRIED or attempt == attempts - 1:
                raise
            if written():
                return
            time.sleep(0.2 * (attempt + 1))


def _mark_registering(client: MlflowClient, name: str, run_id: str) -> None:
    """Tag the registered model with the run being registered (creating the model if new)."""

    def tag() -> None:
        client.set_registered_model_tag(name, "registering_run", run_id)

    def tagged() -> bool:
        return client.get_registered_model(name).tags.get("registering_run") == run_id

    try:
        _upsert(tag, tagged)
    except MlflowException as error:
        if error.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        _create_model(client, name)
        _upsert(tag, tagged)


def _create_model(client: MlflowClient, name: str) -> None:
    try:
        client.create_registered_model(name)
    except MlflowException as error:
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise


def _claim(client: MlflowClient, run_id: str) -> bool:
    """True when this process may create the run's version (it logged the claim first)."""
    nonce = uuid.uuid4().hex
    try:
        client.log_param(run_id, CLAIM_PARAM, nonce)
    except MlflowException as error:
        # A param cannot change once logged (INVALID_PARAMETER_VALUE): read back whose claim it is.
        if error.error_code != "INVALID_PARAMETER_VALUE":
            raise
        claimed = client.get_run(run_id).data.params.get(CLAIM_PARAM)
        if claimed is None:
            raise
        return claimed == nonce
    return True


def _await_version(client: MlflowClient, name: str, run_id: str, wait: float) -> ModelVersion:
    """The version another process is registering for ``run_id`` (claim already taken)."""
    deadline = time.monotonic() + wait
    while (found := _version_of_run(client, name, run_id)) is None:
        if time.monotonic() > deadline:
            raise RegistryError(
                f"registering {name}: run {run_id} was claimed by another registration "
                f"(param {CLAIM_PARAM}) but no version appeared in {wait:.0f} s: train again"
            )
        time.sleep(0.5)
    return found


def find_version(settings: Settings, *, git_sha: str | None, number: int | None) -> ModelVersion:
    """The version registered from ``git_sha`` (newest if several), or version ``number``.
    A version built with uncommitted changes (``git_dirty``) is not one built from ``git_sha``:
    only its number names it."""
    name = settings.registry.model_name
    with failing_closed(name):
        client = connect(settings)
        if number is not None:
            return client.get_model_version(name, str(number))
        versions = client.search_model_versions(f"name='{name}' and tags.git_sha='{git_sha}'")
    clean = [v for v in versions if v.tags.get("git_dirty") != "true"]
    if clean:
        return max(clean, key=lambda v: int(v.version))
    message = f"{name}: no registered version was built from git_sha={git_sha}"
    if dirty := ", ".join(sorted(v.version for v in versions)):
        message += f" (with uncommitted changes: version {dirty}; name it with VERSION=)"
    raise RegistryError(message)


def set_alias(settings: Settings, alias: str, version: str | None) -> None:
    """Point ``alias`` at ``version``, or remove it when ``version`` is None."""
    name = settings.registry.model_name
    with failing_closed(f"moving {name}@{alias}"):
        client = connect(settings)
        if version is None:
            client.delete_registered_model_alias(name, alias)
        else:
            client.set_registered_model_alias(name, alias, version)


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
