"""Pipeline stages: each reads top to bottom and leaves a file a workflow can read."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from . import data, figures, gate, model_files, monitoring, tracking
from .config import ConfigError, Schema, SearchSettings, Settings, load_schema
from .console import warning
from .errors import DataError, GateFailed, RegistryError, UsageError
from .files import atomic
from .stages.validate import clear_outputs, labelled, read_training_data, validate
from .timings import timed


@dataclass
class Prediction:
    frame: pd.DataFrame  # id columns, prediction, proba_<class>
    warnings: list[str] = field(default_factory=list)


def _write_json(path: Path, body: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=2) + "\n")


# The monitoring reference profile, an artifact of every training run (see monitoring.py).
REFERENCE_PATH = "monitoring/reference.json"


def config_sha256(settings: Settings) -> str:
    """Digest of the settings and the schema as validated (comments and layout do not count)."""
    schema = load_schema(settings.data.schema_file)
    text = settings.model_dump_json() + schema.model_dump_json()
    return hashlib.sha256(text.encode()).hexdigest()


# What each stage's JSON must hold for the next stage to read it.
REQUIRED_KEYS = {
    "train": ("run_id", "model_uri", "experiment_id", "metrics", "data_sha256", "config_sha256"),
    "gate": ("passed", "run_id"),
}


def _read_json(path: Path, producer: str) -> dict[str, Any]:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path} not found: run `make {producer}` first") from None
    except (OSError, ValueError):  # unreadable, not UTF-8, truncated or not JSON
        body = None
    if not isinstance(body, dict) or any(key not in body for key in REQUIRED_KEYS[producer]):
        raise UsageError(
            f"{path} is not what `make {producer}` writes (truncated or edited?): "
            f"run `make {producer}` again"
        )
    return body


@dataclass(frozen=True)
class Commit:
    """The commit being built: GITHUB_SHA in Actions, else git's HEAD; None outside git (or
    before the first commit). ``dirty``: no commit describes the tree -- there is none, or
    tracked files differ from it (untracked files, e.g. the data of a DVC project, do not count)."""

    sha: str | None
    dirty: bool

    def tags(self) -> dict[str, str]:
        """Tags of a run or version built here: no ``git_sha`` at all when there is no commit."""
        return ({"git_sha": self.sha} if self.sha else {}) | {"git_dirty": str(self.dirty).lower()}


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip()


def current_commit() -> Commit:
    sha = os.environ.get("GITHUB_SHA") or _git("rev-parse", "--verify", "--quiet", "HEAD")
    changed = _git("status", "--porcelain", "--untracked-files=no")
    return Commit(sha or None, not sha or bool(changed))


def allow_dirty_from_env() -> bool:
    """ALLOW_DIRTY=1 (``make pipeline ALLOW_DIRTY=1``): --allow-dirty for every registering step."""
    return os.environ.get("ALLOW_DIRTY", "") not in ("", "0")


def check_provenance(commit: Commit, allow_dirty: bool) -> None:
    """Outside CI, register only what a commit describes (UsageError), unless ``allow_dirty``:
    a version must say which code built it. CI builds the commit it checked out."""
    if allow_dirty or os.environ.get("CI", "").lower() in ("1", "true"):
        return
    if commit.sha is None:
        raise UsageError(
            "not registering: the project has no git commit to record (git init, git add -A, "
            "git commit), or pass --allow-dirty (ALLOW_DIRTY=1 with make)"
        )
    if commit.dirty:
        raise UsageError(
            f"not registering: files tracked by git changed since commit {commit.sha[:12]} "
            "(git status); commit them, or pass --allow-dirty (ALLOW_DIRTY=1 with make)"
        )


def _split(
    settings: Settings, frame: pd.DataFrame, schema: Schema, consume: bool = False
) -> data.Split:
    """The train/test split, after checking data.test_size leaves both sides usable
    (``consume``: the frame's columns move into the split, see data.split)."""
    target, size = settings.data.target, settings.data.test_size
    test_rows = math.ceil(size * len(frame))
    train_rows = len(frame) - test_rows
    classification = settings.task == "classification"
    needed = frame[target].nunique() if classification else 2
    what = f"{needed} classes" if classification else "a score"
    if min(test_rows, train_rows) < needed:
        raise ConfigError(
            f"data.test_size: {size} splits {len(frame)} rows into {train_rows} train / "
            f"{test_rows} test, too few for {what}: change it or add data"
        )
    group = next(iter(schema.names("group")), None)
    if group is not None:
        groups = frame[group].nunique()
        folds = max(2, round(1 / size)) if classification else 2
        if groups < folds:
            raise DataError(
                f"{group}: {groups} group(s), a grouped split with test_size {size} needs {folds}"
            )
    seed, known = settings.data.seed, frame[target].unique() if classification else ()
    parts = data.split(frame, target, size, seed, classification, group, consume=consume)
    if classification:
        # Every class in the test split, each often enough for its scores to mean something.
        minimum = settings.data.min_test_class_rows
        if thin := data.thin_classes(known, parts.y_test, minimum):
            raise DataError(
                f"{target}: the test split holds fewer than data.min_test_class_rows "
                f"({minimum}) rows of class {', '.join(thin)}: add rows of that class or raise "
                f"data.test_size (now {size})"
            )
    return parts


def _fit(
    pipeline: Any,
    settings: Settings,
    parts: data.Split,
    groups: pd.Series | None,
    search: SearchSettings | None,
) -> Any:
    """Fit ``pipeline`` (the best of a cross-validated ``search`` when given: a SearchResult,
    else None); an estimator that refuses the data or its own settings (scikit-learn checks
    them when fitting) is a config error."""
    transform = settings.model.target_transform
    if transform != "none" and (low := float(parts.y_train.min())) < 0:
        raise ConfigError(f"model.target_transform: {transform} needs a target >= 0 (min {low:g})")
    if search is not None:
        from . import search as searching

        model, seed = settings.model, settings.data.seed
        x, y = parts.x_train, parts.y_train
        return searching.run(
            pipeline, search, model, settings.task, seed, x, y, groups, settings.dask
        )
    try:
        pipeline.fit(parts.x_train, parts.y_train)
    except (ValueError, TypeError) as error:
        message = str(error).strip().splitlines()[0]
        raise ConfigError(
            f"model.estimator / model.params: {settings.model.estimator} could not be fitted "
            f"with these params on this data: {message}"
        ) from None
    return None


def _training_parts(
    settings: Settings, frame: pd.DataFrame, schema: Schema, consume: bool = False
) -> tuple[data.Split, pd.Series | None]:
    """The split's model inputs, and the group of each training row (None without a group)."""
    parts = _split(settings, frame, schema, consume)
    features = list(schema.features(settings.data.target))
    group = next(iter(schema.names("group")), None)
    groups = parts.x_train[group] if group is not None else None
    parts = data.Split(parts.x_train[features], parts.x_test[features], parts.y_train, parts.y_test)
    return parts, groups


def tune(settings: Settings) -> Any:
    """Run model.search on the training split, log it (a run with a child per candidate, no
    model), write reports/search.json; register nothing. Returns the SearchResult."""
    from .model import build_pipeline

    search = settings.model.search
    if search is None:
        raise ConfigError("model.search: not set: add a search block to config/pipeline.yaml")
    frame = validate(settings)
    schema = load_schema(settings.data.schema_file)
    parts, groups = _training_parts(settings, frame, schema)
    with timed("search"):
        pipeline = build_pipeline(
            settings.model, schema, settings.data.target, settings.data.seed, settings.task
        )
        found = _fit(pipeline, settings, parts, groups, search)
    body = {
        "metric": found.metric,
        "folds": found.folds,
        "best": asdict(found.best),
        "candidates": [asdict(candidate) for candidate in found.candidates],
    }
    path = settings.reports_dir / "search.json"
    _write_json(path, body)
    tags = {"kind": "tune", **current_commit().tags(), **data.lineage(settings.data.path)}
    tracking.log_run(
        settings,
        name="tune",
        params=_search_params(settings, found),
        metrics=found.metrics(),
        tags=tags,
        files=[path],
        children=_children(found),
    )
    return found


def _search_params(settings: Settings, found: Any) -> dict[str, Any]:
    search = settings.model.search
    return {
        "estimator": settings.model.estimator,
        **settings.model.params,
        **found.best.params,
        "search.method": search.method,
        "search.folds": search.folds,
        "search.scoring": search.scoring,
        "search.candidates": len(found.candidates),
    }


def _children(found: Any) -> list[tuple[dict[str, Any], dict[str, float]]]:
    key = f"cv_{found.metric}"
    return [
        (c.params, {f"{key}_mean": c.mean, f"{key}_std": c.std, "fit_seconds": c.fit_seconds})
        for c in found.candidates
    ]


def _baseline(settings: Settings, parts: data.Split) -> dict[str, float]:
    """Scores of the trivial model (class priors, or the mean) on the same split."""
    from sklearn.dummy import DummyClassifier, DummyRegressor

    from .metrics import score

    if settings.task == "classification":
        dummy = DummyClassifier(strategy="prior")
    else:
        dummy = DummyRegressor(strategy="mean")
    dummy.fit(parts.x_train, parts.y_train)
    return score(settings.task, dummy, parts.x_test, parts.y_test)


def add_relative(task: str, metrics: dict[str, float], baseline: dict[str, float]) -> None:
    """Add rmse_vs_baseline (regression): RMSE as a share of the baseline's."""
    if task == "regression":
        scale = baseline["rmse"] or 1.0
        metrics["rmse_vs_baseline"] = metrics["rmse"] / scale
        baseline["rmse_vs_baseline"] = baseline["rmse"] / scale


def train(settings: Settings, frame: pd.DataFrame | None = None) -> dict[str, Any]:
    """Fit the configured pipeline, score it and the baseline, track it in one MLflow run."""
    from . import contract
    from .metrics import score
    from .model import build_pipeline

    owned = frame is None  # read here: nothing else needs the frame after the split
    frame = validate(settings) if owned else frame
    clear_outputs(settings, "train")
    schema = load_schema(settings.data.schema_file)
    target = settings.data.target
    tags = current_commit().tags() | {"config_sha256": config_sha256(settings)}
    tags |= data.lineage(settings.data.path)
    dataset = tracking.training_dataset(settings, frame, digest=tags["data_sha256"][:32])
    rows = len(frame)
    if settings.task == "classification":
        for line in data.rare_classes(frame[target], settings.data.rare_class_share):
            warning("Rare class", line)
    # When train read the data itself, its columns move into `parts` one by one: the rows never
    # exist twice, neither while splitting nor during the fit.
    parts, groups = _training_parts(settings, frame, schema, consume=owned)
    del frame
    search = (
        settings.model.search if settings.model.search and settings.model.search.enabled else None
    )
    with timed("fit"):
        pipeline = build_pipeline(settings.model, schema, target, settings.data.seed, settings.task)
        found = _fit(pipeline, settings, parts, groups, search)
        pipeline = found.model if found else pipeline
    with timed("scoring"):
        metrics = score(settings.task, pipeline, parts.x_test, parts.y_test)
        baseline = _baseline(settings, parts)
        add_relative(settings.task, metrics, baseline)
    with timed("reference_profile"):
        dtypes = {name: rule.dtype for name, rule in schema.features(target).items()}
        reference = monitoring.profile(
            dtypes,
            parts.x_train,
            pipeline.predict,
            settings.task,
            settings.monitoring.reference_rows,
            settings.data.seed,
            target=parts.y_train,
        )
        reference["importance"] = monitoring.importance(
            pipeline, parts.x_test, parts.y_test, settings.task, settings.data.seed
        )
    if reason := _unversioned(tags):
        warning("Unversioned data", reason)
    params = {"estimator": settings.model.estimator, **settings.model.params}
    if found:
        params = _search_params(settings, found)
        metrics |= found.metrics()
    params |= {f"data.{key}": value for key, value in settings.data.model_dump().items()}
    predicted = pipeline.predict(parts.x_test)
    out = settings.reports_dir / "figures"
    with timed("imports"):
        tracking.preload(settings)
    run = tracking.log_training_run(
        settings,
        model=pipeline,
        dataset=dataset,
        x_example=parts.x_train,
        params=params,
        metrics=metrics | {f"baseline_{key}": value for key, value in baseline.items()},
        tags=tags,
        figures=partial(figures.write_figures, settings.task, parts.y_test, predicted, out),
        metadata={"contract": contract.build(schema, target, parts.x_train)},
        documents={REFERENCE_PATH: reference},
        children=_children(found) if found else [],
    )
    record = {
        **asdict(run),
        **tags,
        "metrics": metrics,
        "baseline_metrics": baseline,
        "rows": rows,
        "train_rows": len(parts.x_train),
        "test_rows": len(parts.x_test),
    }
    _write_json(settings.reports_dir / "metrics.json", record)
    return record


def _production_metrics(
    settings: Settings, frame: pd.DataFrame, schema: Schema, baseline: dict[str, float] | None
) -> tuple[dict | None, str, list]:
    """Re-score the production model on the current test split (None when there is none);
    relative metrics are relative to the candidate's baseline, fitted on that same split."""
    from .metrics import score

    alias = settings.registry.production_alias
    production = tracking.version_by_alias(settings, alias)
    if production is None:
        return None, f"none yet (no version has alias `{alias}`)", []
    label = f"version {production.version} (`{alias}`)"
    parts = _split(settings, frame, schema)
    model, _ = tracking.load_version(settings, production)
    try:
        metrics = score(settings.task, model, parts.x_test, parts.y_test)
        if baseline is not None:
            add_relative(settings.task, metrics, dict(baseline))
        return metrics, label, []
    except (ValueError, KeyError, TypeError) as error:
        return None, label, [f"production model cannot score the current data: {error}"]


def run_gate(
    settings: Settings, record: dict[str, Any] | None = None, frame: pd.DataFrame | None = None
) -> gate.GateResult:
    """Decide on the trained candidate; write gate.json and report.md; raise GateFailed."""
    clear_outputs(settings, "gate")
    with timed("gate"):
        return _gate(settings, record, frame)


def _decide(
    settings: Settings, record: dict[str, Any], frame: pd.DataFrame | None
) -> tuple[gate.GateResult, str]:
    """The gate's decision on the candidate ``record`` describes, production re-scored on the
    current test split; and how production is named in the report."""
    schema = load_schema(settings.data.schema_file)
    if frame is None:
        frame = labelled(settings, read_training_data(settings, schema))
        if data.sha256(settings.data.path) != record["data_sha256"]:
            raise DataError("the data changed since training: run `make train` again")
    if config_sha256(settings) != record.get("config_sha256"):
        raise UsageError("the config or schema changed since training: run `make train` again")
    baseline = record.get("baseline_metrics")
    production, label, problems = _production_metrics(settings, frame, schema, baseline)
    result = gate.decide(settings.gate, settings.task, record["metrics"], baseline, production)
    return replace(result, problems=result.problems + problems), label


def _gate(settings: Settings, record: dict[str, Any] | None, frame: pd.DataFrame | None):
    record = record or _read_json(settings.reports_dir / "metrics.json", "train")
    result, label = _decide(settings, record, frame)
    run = tracking.LoggedRun(record["run_id"], record["model_uri"], record["experiment_id"])
    _write_json(
        settings.reports_dir / "gate.json",
        {
            "passed": result.passed,
            "run_id": run.run_id,
            "config_sha256": record["config_sha256"],
            "production": label,
            "checks": [asdict(check) | {"passed": check.passed} for check in result.checks],
            "problems": result.problems,
        },
    )
    version = (
        f"DVC md5 `{record['data_dvc_md5']}`"
        if "data_dvc_md5" in record
        else f"md5 `{record.get('data_md5', 'unknown')}`"
    )
    data_lines = [
        f"`{settings.data.path}`: {record['rows']} rows "
        f"({record['train_rows']} train / {record['test_rows']} test)",
        f"sha256 `{record['data_sha256'][:12]}…`, {version}, {_commit_label(record)}",
    ]
    report = gate.report_markdown(
        result,
        title=settings.registry.model_name,
        production_label=label,
        data_lines=data_lines,
        run_line=tracking.run_link(settings, run),
    )
    (settings.reports_dir / "report.md").write_text(report)
    if not result.passed:
        failing = [check.metric for check in result.checks if not check.passed]
        raise GateFailed(f"gate failed: {', '.join(failing + result.problems)} (see report.md)")
    return result


def _logged_metrics(settings: Settings, run_id: str) -> dict[str, Any]:
    """The candidate's and the baseline's metrics as train logged them in the run."""
    _, logged, _ = tracking.run_details(settings, run_id)
    metrics = {key: value for key, value in logged.items() if not key.startswith("baseline_")}
    baseline = {
        key.removeprefix("baseline_"): value
        for key, value in logged.items()
        if key.startswith("baseline_")
    }
    return {"metrics": metrics, "baseline_metrics": baseline}


def _unversioned(record: dict[str, Any]) -> str | None:
    """Why the trained-on data is not the version its .dvc file names (None when it is)."""
    recorded = record.get("data_dvc_md5")
    if recorded is None or recorded == record.get("data_md5"):
        return None
    return (
        f"the data (md5 {record.get('data_md5')}) differs from the version its .dvc file records "
        f"({recorded}): `make data-push` and commit the .dvc file before registering"
    )


def _changed_since_gate(settings: Settings, record: dict[str, Any], commit: Commit) -> str | None:
    """What differs between the gated run and what would be registered now (None: nothing)."""
    checks = (
        ("data", record["data_sha256"], data.sha256(settings.data.path)),
        ("config", record["config_sha256"], config_sha256(settings)),
        ("commit", record.get("git_sha"), commit.sha),
    )
    for what, gated, now in checks:
        if gated != now:
            before, after = (gated or "none")[:12], (now or "none")[:12]
            return f"the {what} changed since the gate ({before} -> {after})"
    return None


def _commit_label(record: dict[str, Any]) -> str:
    if not record.get("git_sha"):
        return "no git commit"
    dirty = " with uncommitted changes" if record.get("git_dirty") == "true" else ""
    return f"commit `{record['git_sha'][:12]}`{dirty}"


def register(
    settings: Settings,
    pr_number: str | None = None,
    pr_head_sha: str | None = None,
    allow_dirty: bool = False,
    frame: pd.DataFrame | None = None,
) -> tuple[Any, bool]:
    """Register the gated run's model with alias staging; never after a failed gate, never when
    the data, the config or the commit differ from what the gate saw, and never (outside CI,
    unless ``allow_dirty``) from a tree no commit describes.

    The decision is taken again here, from the metrics the run logged in MLflow and production
    re-scored now: gate.json says which run was gated, never whether it may be registered."""
    commit = current_commit()
    check_provenance(commit, allow_dirty)
    record = _read_json(settings.reports_dir / "metrics.json", "train")
    decision = _read_json(settings.reports_dir / "gate.json", "gate")
    if not decision["passed"] or decision["run_id"] != record["run_id"]:
        raise GateFailed("the current run has not passed the gate: not registering")
    if decision.get("config_sha256") != record.get("config_sha256"):
        raise GateFailed("the gate judged another config than training used: not registering")
    if reason := _changed_since_gate(settings, record, commit):
        raise GateFailed(f"not registering: {reason}; run the pipeline again")
    result, _ = _decide(settings, record | _logged_metrics(settings, record["run_id"]), frame)
    if not result.passed:
        failing = [check.metric for check in result.checks if not check.passed]
        raise GateFailed(
            f"not registering: run {record['run_id']} fails the gate on its logged metrics "
            f"({', '.join(failing + result.problems)})"
        )
    # A registered model must name a data version that can be pulled again.
    if reason := _unversioned(record):
        raise DataError(f"not registering: {reason}")
    tags = {key: record[key] for key in data.LINEAGE_TAGS if key in record}
    tags |= Commit(record.get("git_sha"), record.get("git_dirty") == "true" or commit.dirty).tags()
    tags |= {"config_sha256": record["config_sha256"]}
    tags |= {"gate": "passed"}
    tags |= {
        f"metric.{c.metric}": f"{record['metrics'][c.metric]:.6g}" for c in settings.gate.criteria
    }
    if pr_number:
        tags["pr_number"] = pr_number
    if pr_head_sha:
        tags["pr_head_sha"] = pr_head_sha
    run = tracking.LoggedRun(record["run_id"], record["model_uri"], record["experiment_id"])
    with timed("registration"):
        return tracking.register(settings, run, tags)


@dataclass(frozen=True)
class Promotion:
    version: str
    previous: str | None  # the version production pointed at before (None: no production yet)


def promote(settings: Settings, sha: str | None, number: int | None) -> Promotion:
    """Point the production alias at the gated version built from ``sha`` (or version
    ``number``); record the previous one in reports/promotion.json for a rollback."""
    alias = settings.registry.production_alias
    model_version = tracking.find_version(settings, git_sha=sha, number=number)
    if model_version.tags.get("gate") != "passed":
        raise GateFailed(f"version {model_version.version} did not pass the gate: not promoting")
    current = tracking.version_by_alias(settings, alias)
    promotion = Promotion(str(model_version.version), str(current.version) if current else None)
    tracking.set_alias(settings, alias, promotion.version)
    _write_json(settings.reports_dir / "promotion.json", asdict(promotion))
    return promotion


def version_by_alias(settings: Settings, alias: str) -> Any:
    """The version behind ``alias`` (None when the model or the alias does not exist)."""
    return tracking.version_by_alias(settings, alias)


def find_version(settings: Settings, sha: str) -> Any:
    """The newest version registered from commit ``sha`` (RegistryError when there is none)."""
    return tracking.find_version(settings, git_sha=sha, number=None)


def rollback(settings: Settings, previous: int | None) -> str:
    """Undo a promotion: production back to ``previous``, or removed when there was none."""
    alias = settings.registry.production_alias
    tracking.set_alias(settings, alias, None if previous is None else str(previous))
    return f"version {previous}" if previous is not None else "no version (alias removed)"


def load_for_prediction(settings: Settings, alias: str) -> tuple[Any, dict[str, Any], Any]:
    """The model behind ``alias``, its predict-time contract and its registry version."""
    model_version = _registered(settings, alias, None)
    model, contract_ = tracking.load_version(settings, model_version)
    return model, contract_, model_version


def predict_frame(model: Any, contract_: dict[str, Any], frame: pd.DataFrame) -> Prediction:
    """Id columns, predictions (and class probabilities) for ``frame``, with the contract's
    warnings; DataError naming the column if ``frame`` breaks the contract."""
    from . import batch

    scored = batch.score(model, contract_, frame)
    if scored.frame is None:
        raise scored.tally.error(contract_)
    return Prediction(scored.frame, scored.tally.warnings(contract_))


def read_input(
    settings: Settings, source: Path, contract_: dict[str, Any], extra: dict[str, str] | None = None
) -> pd.DataFrame:
    """A CSV to score, read with the types the model's contract (and ``extra``) declares."""
    dtypes = {name: entry["dtype"] for name, entry in contract_["features"].items()}
    dtypes |= dict.fromkeys(contract_["ids"], "str")  # an id such as 007 stays 007
    return data.read_csv(source, settings.data.csv, dtypes | (extra or {}), setting="--input")


def predict(settings: Settings, source: Path, target: Path, alias: str) -> Any:
    """Score a CSV with ``models:/<name>@<alias>``: id columns, prediction, class probabilities;
    in chunks, here or on the Dask cluster (batch.py). Returns the rows written and warnings."""
    from . import batch

    writable(target, "--output")
    model, contract_, _ = load_for_prediction(settings, alias)
    written = batch.predict_csv(settings, source, target, model, contract_)
    for line in written.warnings:
        warning("Unseen values", line)
    return written


def writable(target: Path, option: str) -> None:
    """UsageError naming ``option`` unless a file can be written at ``target``."""
    if target.is_dir():
        raise UsageError(f"{option} {target} is a folder: name a file, e.g. {target}/out.csv")
    folder = target.parent if str(target.parent) else Path(".")
    if folder.exists() and not (folder.is_dir() and os.access(folder, os.W_OK)):
        raise UsageError(f"{option} {target}: {folder} is not a folder this user can write")


def example_input(settings: Settings, output: Path, alias: str) -> pd.DataFrame:
    """The input example of ``models:/<name>@<alias>`` as a CSV ``make predict`` takes, and as
    the JSON body of a ``/predict`` request (same name, ``.json``)."""
    _registered(settings, alias, None)
    frame = tracking.input_example(f"models:/{settings.registry.model_name}@{alias}")
    with atomic(output) as partial:
        frame.to_csv(partial, index=False)
    body = {"rows": json.loads(frame.to_json(orient="records", date_format="iso"))}
    _write_json(output.with_suffix(".json"), body)
    return frame


def _registered(settings: Settings, alias: str | None, number: int | None) -> Any:
    """Registry version ``number``, else the one behind ``alias``."""
    if number is not None:
        return tracking.find_version(settings, git_sha=None, number=number)
    alias = alias or settings.registry.production_alias
    model_version = tracking.version_by_alias(settings, alias)
    if model_version is None:
        raise RegistryError(f"no version of {settings.registry.model_name} has alias `{alias}`")
    return model_version


def export_model(
    settings: Settings, output: Path, alias: str | None = None, number: int | None = None
) -> Path:
    """Copy the trained candidate (or registry version ``number``, or the one behind
    ``alias``) into ``output``."""
    if alias is None and number is None:
        uri = _read_json(settings.reports_dir / "metrics.json", "train")["model_uri"]
        tracking.connect(settings)
        return tracking.download_model(uri, output)
    model_version = _registered(settings, alias, number)
    tracking.verified_files(settings, model_version, output)
    return output


def model_card(settings: Settings, alias: str | None = None, number: int | None = None) -> str:
    """Markdown model card of registry version ``number`` (or the one behind ``alias``):
    metrics, params, data and lineage."""
    name = settings.registry.model_name
    model_version = _registered(settings, alias, number)
    params, metrics, _ = tracking.run_details(settings, model_version.run_id)
    with tempfile.TemporaryDirectory() as scratch:
        files = tracking.verified_files(settings, model_version, Path(scratch) / "model")
    tags = model_version.tags
    aliases = ", ".join(f"`{a}`" for a in sorted(model_version.aliases)) or "none yet"
    lines = [
        f"# Model card: {name} version {model_version.version}",
        "",
        f"- Registered model: `{name}`, version **{model_version.version}** (aliases: {aliases})",
        f"- Run id: `{model_version.run_id}`",
        f"- Commit: `{tags.get('git_sha', 'unknown')}`",
        f"- Training data sha256: `{tags.get('data_sha256', 'unknown')}`",
        f"- Training data version (DVC md5): `{tags.get('data_dvc_md5', 'not tracked by DVC')}`",
        f"- Config sha256: `{tags.get('config_sha256', 'unknown')}`",
    ]
    if "pr_number" in tags:
        head = f" (head `{tags['pr_head_sha']}`)" if "pr_head_sha" in tags else ""
        lines.append(f"- Pull request: #{tags['pr_number']}{head}")
    lines += [
        "",
        "## Model files",
        "",
        f"Digest (`{model_files.DIGEST_TAG}`, checked before every load): "
        f"`{tags[model_files.DIGEST_TAG]}`",
        "",
        "| file | sha256 |",
        "|---|---|",
    ]
    lines += [f"| `{path}` | `{sha}` |" for path, sha in sorted(files.items())]
    lines += ["", "## Metrics (test split)", "", "| metric | value |", "|---|---|"]
    lines += [f"| {key} | {value:.4f} |" for key, value in sorted(metrics.items())]
    lines += ["", "## Parameters", "", "| parameter | value |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in sorted(params.items())]
    return "\n".join(lines) + "\n"
