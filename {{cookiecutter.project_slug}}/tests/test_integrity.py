"""A registered model is loaded only as it was registered, and only as skops: files changed on the
artifact store after registration (as whoever can write it could) are refused before anything in
them is deserialised."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import yaml
from mlflow.tracking import MlflowClient

from {{ cookiecutter.module_name }} import model_files
from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.config import load_settings
from {{ cookiecutter.module_name }}.errors import EXIT_REGISTRY

BATCH = "batch.csv"


class WritesMarker:
    """What a crafted pickle does when it is loaded: run a command of the attacker's."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "code from the model file ran"))


def _client() -> MlflowClient:
    return MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])


def _stored_files(project: Path) -> Path:
    """Where the local store keeps the files of registered version 1."""
    source = _client().get_model_version(load_settings().registry.model_name, "1").source
    model_id = source.removeprefix("models:/")
    (found,) = project.glob(f"mlruns/*/models/{model_id}/artifacts")
    return found


@pytest.fixture
def production(project: Path) -> Path:
    """Version 1 registered and promoted; a batch of the training data to score."""
    assert main(["data"]) == 0
    assert main(["pipeline"]) == 0
    assert main(["promote", "--version", "1"]) == 0
    training = load_settings().data.path.read_text().splitlines()
    (project / BATCH).write_text("\n".join(training[:40]) + "\n")
    return project


def _refused(capsys: pytest.CaptureFixture[str], *commands: list[str]) -> str:
    """Each command exits 5 with one error line naming version 1 (the last one is returned)."""
    errors = []
    for command in commands:
        capsys.readouterr()
        assert main(command) == EXIT_REGISTRY, command
        errors = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert len(errors) == 1, (command, errors)
        assert errors[0].startswith("error: "), errors[0]
        assert "version 1" in errors[0], errors[0]
    return errors[0]


def test_registration_records_the_digest_of_every_model_file(production: Path) -> None:
    version = _client().get_model_version(load_settings().registry.model_name, "1")
    files = model_files.file_digests(_stored_files(production))

    assert {"MLmodel", "model.skops"} <= set(files)
    assert version.tags[model_files.DIGEST_TAG] == model_files.digest(files)


def test_every_load_refuses_a_pickle_swapped_in_after_registration(
    production: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: the MLmodel file rewritten to the cloudpickle flavour, beside a pickle that runs code
    stored = _stored_files(production)
    marker = production / "pwned"
    mlmodel = yaml.safe_load((stored / "MLmodel").read_text())
    mlmodel["flavors"]["sklearn"].update(serialization_format="cloudpickle", pickled_model="m.pkl")
    (stored / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    (stored / "m.pkl").write_bytes(pickle.dumps(WritesMarker(marker)))

    # When / then: every command that loads production refuses it, and nothing from it ran
    _refused(
        capsys,
        ["predict", "--input", BATCH, "--output", "preds.csv"],
        ["gate"],
        ["monitor", "--input", BATCH],
        ["evaluate", "--input", BATCH],
        ["export", "--version", "1", "--output", "exported"],
        ["card", "--version", "1", "--output", "card.md"],
    )
    assert not marker.exists()
    assert not (production / "preds.csv").exists()
    assert not (production / "exported").exists()
    assert not (production / "card.md").exists()


def test_a_changed_byte_or_an_added_file_is_refused(
    production: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stored = _stored_files(production)
    skops_file = stored / "model.skops"
    original = skops_file.read_bytes()
    skops_file.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    _refused(capsys, ["predict", "--input", BATCH, "--output", "preds.csv"])

    skops_file.write_bytes(original)
    (stored / "extra.py").write_text("print('not part of the model')\n")
    _refused(capsys, ["predict", "--input", BATCH, "--output", "preds.csv"])

    (stored / "extra.py").unlink()
    assert main(["predict", "--input", BATCH, "--output", "preds.csv"]) == 0


def test_a_version_without_a_digest_is_not_loaded(
    production: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = load_settings().registry.model_name
    _client().delete_model_version_tag(name, "1", model_files.DIGEST_TAG)

    error = _refused(capsys, ["predict", "--input", BATCH, "--output", "preds.csv"])
    assert "no model_sha256 tag" in error


def test_a_version_whose_files_ask_skops_to_trust_foreign_types_is_refused(
    production: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: a version registered (digest and all) with a model that trusts builtins.eval, as a
    # registrar's forged registration could
    stored = _stored_files(production)
    mlmodel = yaml.safe_load((stored / "MLmodel").read_text())
    mlmodel["flavors"]["sklearn"]["skops_trusted_types"] += ["builtins.eval", "os.system"]
    (stored / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    forged = model_files.digest(model_files.file_digests(stored))
    name = load_settings().registry.model_name
    _client().set_model_version_tag(name, "1", model_files.DIGEST_TAG, forged)

    # When / then
    error = _refused(capsys, ["predict", "--input", BATCH, "--output", "preds.csv"])
    assert "asks skops to trust builtins.eval, os.system" in error


def test_registration_refuses_a_model_that_is_not_skops(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: a gated candidate whose logged MLmodel was switched to pickle before registration
    for stage in ("data", "validate", "train", "gate"):
        assert main([stage]) == 0, stage
    (stored,) = project.glob("mlruns/*/models/*/artifacts")
    mlmodel = yaml.safe_load((stored / "MLmodel").read_text())
    mlmodel["flavors"]["sklearn"]["serialization_format"] = "pickle"
    (stored / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    capsys.readouterr()

    # When / then: nothing is registered
    assert main(["register"]) == EXIT_REGISTRY
    assert "not a scikit-learn model saved with skops" in capsys.readouterr().err
    assert _client().search_model_versions(f"name='{load_settings().registry.model_name}'") == []
{%- if cookiecutter.serving == "fastapi" %}


def test_the_api_does_not_start_on_a_tampered_model(production: Path) -> None:
    from fastapi.testclient import TestClient

    from {{ cookiecutter.module_name }}.errors import RegistryError
    from {{ cookiecutter.module_name }}.serving import create_app

    (_stored_files(production) / "MLmodel").write_text("flavors: {}\n")
    with pytest.raises(RegistryError, match="version 1"), TestClient(create_app()):
        pass
{%- endif %}
