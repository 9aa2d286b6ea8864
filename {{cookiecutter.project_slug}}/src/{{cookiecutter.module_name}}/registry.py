"""The model registry: versions, aliases, and loading a version only once its files are verified.

The other half of MLflow (runs and artifacts) is tracking.py; nothing else imports MLflow.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from . import model_files
from .config import Settings
from .core import contract
from .errors import RegistryError
from .tracking import LoggedRun, connect, download_model, failing_closed, first_line


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
            raise RegistryError(f"cannot load {what}: {first_line(error)}") from None
        with failing_closed(f"cannot read the MLmodel file of {what}"):
            contract_ = _stored_contract(mlflow.models.Model.load(str(directory)))
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
        existing = _version_of_run(client, name, run.run_id)
        if existing is None:
            # Proves write access to the model before the claim: a refused identity must not
            # leave a claim behind that blocks the registrar.
            _mark_registering(client, name, run.run_id)
            if not _claim(client, run.run_id):
                existing = _await_version(client, name, run.run_id, wait)
        created = existing is None
        if existing is not None:
            model_version = existing
        else:
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


def resolve(settings: Settings, alias: str | None, number: int | None) -> ModelVersion:
    """Registry version ``number``, else the one behind ``alias`` (default: production)."""
    if number is not None:
        return find_version(settings, git_sha=None, number=number)
    alias = alias or settings.registry.production_alias
    model_version = version_by_alias(settings, alias)
    if model_version is None:
        raise RegistryError(f"no version of {settings.registry.model_name} has alias `{alias}`")
    return model_version


def _stored_contract(model: Any) -> dict[str, Any]:
    """The predict-time contract in a model's MLmodel file (one from its signature for a model
    logged before contracts existed: its columns and types)."""
    metadata = model.metadata or {}
    if "contract" in metadata:
        return metadata["contract"]
    return contract.from_signature([(s.name, s.type.name) for s in model.signature.inputs.inputs])
