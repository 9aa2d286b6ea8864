"""The configuration loads into typed settings and names the bad key when it is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import PROJECT_ROOT, SCHEMA_FILE

from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.config import load_settings
from {{ cookiecutter.module_name }}.errors import ConfigError
from {{ cookiecutter.module_name }}.schema import ColumnRule


def _write(project: Path, mutate) -> Path:
    path = project / "config" / "pipeline.yaml"
    raw = yaml.safe_load(path.read_text())
    mutate(raw)
    path.write_text(yaml.safe_dump(raw))
    return path


def test_shipped_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    # The project's own config and schema, whatever data they describe, must agree.
    monkeypatch.chdir(PROJECT_ROOT)
    settings = load_settings()

    assert settings.task == "{{ cookiecutter.task }}"
    assert settings.registry.model_name == "{{ cookiecutter.project_slug }}"
    assert settings.gate.criteria, "the gate needs at least one criterion"
    assert settings.data.schema_file.exists()


def test_settings_are_frozen(project: Path) -> None:
    settings = load_settings()

    with pytest.raises(ValueError, match="frozen"):
        settings.data.seed = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda raw: raw["data"].pop("target"), "data.target: Field required"),
        (lambda raw: raw["data"].update(test_size=1.5), "data.test_size"),
        (lambda raw: raw["model"].update(estimator="os.system"), "model.estimator"),
        (lambda raw: raw["gate"].update(criteria=[]), "gate.criteria"),
        (
            lambda raw: raw["gate"]["criteria"][0].update(direction="up"),
            "gate.criteria.0.direction",
        ),
        (lambda raw: raw.update(surprise=1), "surprise: Extra inputs are not permitted"),
        (
            lambda raw: raw["gate"]["criteria"][0].update(threshold=float("nan")),
            "gate.criteria.0.threshold",
        ),
        (lambda raw: raw["registry"].update(staging_alias="v1"), "reserved by MLflow"),
        (lambda raw: raw["registry"].update(production_alias="Latest"), "reserved by MLflow"),
        (lambda raw: raw["registry"].update(staging_alias="pre prod"), "staging_alias"),
        (
            lambda raw: raw["registry"].update(staging_alias="Production"),
            "registering would move production without a promote",
        ),
    ],
    ids=[
        "missing-key",
        "out-of-range",
        "not-sklearn",
        "no-criteria",
        "bad-direction",
        "extra-key",
        "nan-threshold",
        "version-alias",
        "latest-alias",
        "alias-with-a-space",
        "staging-is-production",
    ],
)
def test_invalid_config_names_the_key(project: Path, mutate, message: str) -> None:
    path = _write(project, mutate)

    with pytest.raises(ConfigError, match=message) as error:
        load_settings(path)
    assert "\n" not in str(error.value)


def test_missing_file_is_one_line(project: Path) -> None:
    with pytest.raises(ConfigError, match="nope.yaml: file not found"):
        load_settings(project / "nope.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [("data: [unclosed", "not valid YAML"), ("- a list", "expected a mapping")],
    ids=["broken-yaml", "not-a-mapping"],
)
def test_unreadable_config(project: Path, text: str, message: str) -> None:
    path = project / "config" / "pipeline.yaml"
    path.write_text(text)

    with pytest.raises(ConfigError, match=message):
        load_settings(path)


def test_precision_applies_to_float_columns_only() -> None:
    assert ColumnRule(dtype="float", precision="single").precision == "single"
    with pytest.raises(ValueError, match="precision applies to float columns, not int"):
        ColumnRule(dtype="int", precision="single")


def test_a_config_error_for_precision_is_one_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = yaml.safe_load((project / SCHEMA_FILE).read_text())
    name = next(name for name, rule in schema["columns"].items() if rule["dtype"] == "float")
    schema["columns"][name] |= {"dtype": "int", "precision": "single"}
    (project / SCHEMA_FILE).write_text(yaml.safe_dump(schema))
    code = main(["validate"])
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert len(err.splitlines()) == 1
    assert f"columns.{name}" in err
    assert "precision applies to float columns" in err
