"""Load config/pipeline.yaml into frozen, validated settings; secrets and URIs stay in the env."""

from __future__ import annotations

import codecs
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from .errors import ConfigError
from .files import read_yaml_model
from .metric_names import HIGHER_IS_BETTER, cv_metrics
from .schema import Frozen, Schema, load_schema

DEFAULT_CONFIG = Path("config/pipeline.yaml")


class CsvSettings(Frozen):
    """How the CSV files are written: separator, decimal mark, thousands separator, encoding."""

    sep: str = Field(default=",", min_length=1, max_length=1)
    decimal: str = Field(default=".", min_length=1, max_length=1)
    thousands: str | None = Field(default=None, min_length=1, max_length=1)
    encoding: str = "utf-8"

    @model_validator(mode="after")
    def _known_encoding(self) -> CsvSettings:
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {self.encoding!r} (e.g. utf-8, latin-1)") from None
        if self.decimal == self.sep or self.decimal == self.thousands:
            raise ValueError("decimal must differ from sep and thousands")
        return self


class DataSettings(Frozen):
    path: Path
    schema_file: Path
    target: str = Field(min_length=1)
    test_size: float = Field(gt=0, lt=1)
    seed: int = 42
    csv: CsvSettings = CsvSettings()
    # Classification: a class with a smaller share of the rows gets a warning (schema, train).
    rare_class_share: float = Field(default=0.05, ge=0, lt=1)
    # Classification: rows of every class the test split must hold, or train stops (exit 3).
    min_test_class_rows: int = Field(default=5, ge=1)


class TextSettings(Frozen):
    """TF-IDF settings for `dtype: text` (free text) columns."""

    max_features: int = Field(default=1000, ge=1)
    ngram_max: int = Field(default=1, ge=1, le=3)
    min_df: int = Field(default=1, ge=1)
    lowercase: bool = True


class PreprocessingSettings(Frozen):
    numeric_imputer: Literal["mean", "median", "most_frequent"] = "median"
    scale_numeric: bool = True
    # str columns: one-hot (bounded by max_categories/min_frequency), ordinal codes, or target
    # encoding (cross-fitted, for very many categories).
    categorical_encoder: Literal["onehot", "ordinal", "target"] = "onehot"
    max_categories: int | None = Field(default=20, ge=2)
    min_frequency: int | float | None = Field(default=None, gt=0)
    # Validation warns about str columns with more distinct values than this.
    high_cardinality: int = Field(default=50, ge=2)
    # auto: sparse matrices only for estimators that accept them (HistGradientBoosting does not).
    output: Literal["auto", "dense", "sparse"] = "auto"
    text: TextSettings = TextSettings()


class SearchSettings(Frozen):
    """Hyperparameter search with cross-validation (``make tune``; in ``train`` when enabled)."""

    # true: every `train` runs the search and fits the best candidate; `make tune` runs it always.
    enabled: bool = False
    method: Literal["grid", "random"] = "grid"
    # Estimator parameter -> values to try; random search also takes {uniform: [low, high]},
    # {log_uniform: [low, high]} or {int: [low, high]}. A name with "__" addresses any step of
    # the pipeline (e.g. preprocess__numeric__impute__strategy).
    params: dict[str, Any] = Field(min_length=1)
    folds: int = Field(default=3, ge=2, le=20)
    scoring: str = Field(min_length=1)  # a metric the task logs (higher or lower is better)
    n_iter: int = Field(default=10, ge=1)  # random search: candidates drawn
    n_jobs: int = Field(default=1)  # folds fitted in parallel (-1: every core)


class ModelSettings(Frozen):
    estimator: str = Field(pattern=r"^sklearn(\.\w+)+$")
    params: dict[str, Any] = Field(default_factory=dict)
    preprocessing: PreprocessingSettings = PreprocessingSettings()
    # Regression only: fit on a transformed target (log1p for skewed, non-negative targets).
    target_transform: Literal["none", "log1p", "sqrt"] = "none"
    search: SearchSettings | None = None


class Criterion(Frozen):
    metric: str
    direction: Literal["higher", "lower"]
    # Absolute threshold; None: no absolute check (the baseline and production still apply).
    # NaN or infinity would make every comparison pass or fail silently: refused.
    threshold: float | None = Field(default=None, allow_inf_nan=False)
    # Tolerated drop against production, in the metric's own units; None: the gate's default.
    max_regression: float | None = Field(default=None, ge=0)
    # Required skill over the trivial baseline; None: the gate's default.
    baseline_margin: float | None = Field(default=None, ge=0, le=1)


class GateSettings(Frozen):
    criteria: list[Criterion] = Field(min_length=1)
    max_regression: float = Field(default=0.0, ge=0)
    # Skill over the trivial baseline (DummyClassifier/DummyRegressor on the same split): the
    # share of the gap between the baseline's score and a perfect score the candidate must
    # close. 0.1 = 10 %; 0 = at least as good as the baseline; null = no baseline check.
    baseline_margin: float | None = Field(default=0.1, ge=0, le=1)


# What MLflow accepts as an alias name: letters, digits, _ and -, up to 255 characters.
ALIAS_PATTERN = r"^[\w-]+$"


class RegistrySettings(Frozen):
    model_name: str = Field(min_length=1)
    staging_alias: str = Field(default="staging", pattern=ALIAS_PATTERN, max_length=255)
    production_alias: str = Field(default="production", pattern=ALIAS_PATTERN, max_length=255)

    @model_validator(mode="after")
    def _distinct_aliases(self) -> RegistrySettings:
        for alias in (self.staging_alias, self.production_alias):
            # MLflow reserves `latest` and v<number> (version aliases) in any case.
            if alias.lower() == "latest" or re.fullmatch(r"[vV]\d+", alias):
                raise ValueError(f"alias {alias!r} is reserved by MLflow (latest, v<number>)")
        # Compared ignoring case, as the server's guard compares production: registering with
        # alias `Production` would be a promotion without `make promote`.
        if self.staging_alias.lower() == self.production_alias.lower():
            raise ValueError(
                f"staging_alias and production_alias must differ (both {self.staging_alias!r}): "
                "registering would move production without a promote"
            )
        return self


class MonitoringSettings(Frozen):
    """Drift thresholds of `make monitor` (see core/drift.py for the tests they apply to)."""

    # Reference rows up to which a statistical test decides (p < p_value); beyond, a distance.
    small_sample: int = Field(default=1000, ge=1)
    p_value: float = Field(default=0.05, gt=0, lt=1)
    distance: float = Field(default=0.1, gt=0)
    # Drift when at least this share of the feature columns drifted ...
    drift_share: float = Field(default=0.5, gt=0, le=1)
    # ... or when one column drifted strongly: its distance (Wasserstein in standard deviations,
    # Jensen-Shannon for categories) at or above strong_distance, whichever test decided ...
    strong_distance: float = Field(default=0.3, gt=0)
    # ... or when a column drifted that carries at least this share of the model's permutation
    # importance at training (null: importance does not decide).
    importance_share: float | None = Field(default=0.25, gt=0, le=1)
    # A column also drifts when its missing-value rate grows by more than this, or when more than
    # this share of its values are categories unseen in training.
    max_missing_increase: float = Field(default=0.1, ge=0, le=1)
    max_unseen_share: float = Field(default=0.05, ge=0, le=1)
    prediction_drift: bool = True  # drifted predictions alone count as drift
    reference_rows: int = Field(default=5000, ge=100)  # values per column kept at training

    @model_validator(mode="after")
    def _strong_is_stricter(self) -> MonitoringSettings:
        if self.strong_distance < self.distance:
            raise ValueError("strong_distance must be at least distance")
        return self


class TrackingSettings(Frozen):
    experiment: str = Field(min_length=1)
    default_uri: str = "sqlite:///mlflow.db"
    # A tracking server that does not answer fails the stage in seconds (exit 5), not minutes.
    request_retries: int = Field(default=2, ge=0, le=10)
    request_timeout: int = Field(default=10, ge=1, le=600)  # seconds per HTTP request


class DaskSettings(Frozen):
    """A Dask cluster for model.search's fits and make predict's chunks (see cluster.py)."""

    # tcp://host:8786 (tls:// with Dask's TLS config); DASK_SCHEDULER_ADDRESS overrides it.
    # None: everything runs on this machine.
    scheduler: str | None = None
    connect_timeout: float = Field(default=10, gt=0, le=600)  # seconds, then exit 5


class PredictSettings(Frozen):
    # make predict reads, checks and scores this many rows at a time: its memory is bounded by
    # the chunk, not by the file.
    chunk_rows: int = Field(default=50_000, ge=1)


class Settings(Frozen):
    task: Literal["classification", "regression"]
    data: DataSettings
    model: ModelSettings
    gate: GateSettings
    registry: RegistrySettings
    tracking: TrackingSettings
    monitoring: MonitoringSettings = MonitoringSettings()
    dask: DaskSettings = DaskSettings()
    predict: PredictSettings = PredictSettings()
    reports_dir: Path = Path("reports")


def load_settings(path: Path | str = DEFAULT_CONFIG, check_schema: bool = True) -> Settings:
    """Read and validate the pipeline configuration; raise ConfigError if unusable.

    ``check_schema=False`` skips the cross-check with the schema file (for `schema`, which
    writes that file).
    """
    return load(path, check_schema)[0]


def load(
    path: Path | str = DEFAULT_CONFIG, check_schema: bool = True
) -> tuple[Settings, Schema | None]:
    """The settings and the schema they name, each read once and checked against the other
    (what a command passes down). ``check_schema=False``: the schema is not read (None)."""
    settings = read_yaml_model(path, Settings)
    _check_model(path, settings)
    if not check_schema:
        return settings, None
    schema = load_schema(settings.data.schema_file)
    _check_schema(path, settings, schema)
    return settings, schema


def _check_model(path: Path | str, settings: Settings) -> None:
    """Settings that are valid one by one but not together."""
    search = settings.model.search
    # rmse_vs_baseline needs a baseline per fold: cross-validate rmse instead.
    scorable = [name for name in HIGHER_IS_BETTER[settings.task] if name != "rmse_vs_baseline"]
    if search is not None and search.scoring not in scorable:
        raise ConfigError(
            f"{path}: model.search.scoring: {search.scoring!r} is not one of {', '.join(scorable)}"
        )
    searched = search is not None and search.enabled
    known = HIGHER_IS_BETTER[settings.task] | cv_metrics(
        settings.task, search.scoring if search else None
    )
    for i, criterion in enumerate(settings.gate.criteria):
        key = f"{path}: gate.criteria.{i}"
        if criterion.metric.startswith("cv_") and not searched:
            raise ConfigError(
                f"{key}.metric: {criterion.metric} needs a search in training "
                "(model.search with enabled: true)"
            )
        if criterion.metric not in known:
            shown = ", ".join(known)
            raise ConfigError(
                f"{key}.metric: {criterion.metric!r} is not a {settings.task} metric ({shown})"
            )
        expected = "higher" if known[criterion.metric] else "lower"
        if criterion.direction != expected:
            raise ConfigError(f"{key}.direction: {expected} is better for {criterion.metric}")
    if settings.task == "classification" and settings.model.target_transform != "none":
        raise ConfigError(f"{path}: model.target_transform: only for regression")


def _check_schema(path: Path | str, settings: Settings, schema: Schema) -> None:
    target = settings.data.target
    where = f"{path}: data.target: {target!r}"
    if target not in schema.columns:
        raise ConfigError(f"{where} is not in the schema {settings.data.schema_file}")
    role = schema.columns[target].role
    if role not in ("feature", "target"):
        raise ConfigError(f"{where} has role {role} in {settings.data.schema_file}")
    if (declared := schema.names("target")) and declared != [target]:
        raise ConfigError(
            f"{where} but {settings.data.schema_file} gives role target to {declared[0]!r}"
        )
    if not schema.features(target):
        raise ConfigError(f"{settings.data.schema_file}: no feature columns besides the target")


def tracking_uri(settings: Settings) -> str:
    """MLFLOW_TRACKING_URI wins over the config's default (a local SQLite file)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or settings.tracking.default_uri


def experiment_name(settings: Settings) -> str:
    """MLFLOW_EXPERIMENT_NAME (pull-request jobs: their own experiment) wins over the config's."""
    return os.environ.get("MLFLOW_EXPERIMENT_NAME") or settings.tracking.experiment
