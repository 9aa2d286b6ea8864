"""Hyperparameter search with cross-validation: `make tune` registers nothing; a search enabled
in training logs each candidate as a child run and gives the gate cv_<metric>_mean / _std."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import tables
from conftest import TASK, edit_config
from mlflow.tracking import MlflowClient

from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.errors import EXIT_GATE, EXIT_USAGE

SCORING = "f1_macro" if TASK == "classification" else "r2"
PARAM = "C" if TASK == "classification" else "alpha"
ESTIMATOR = {
    "classification": "sklearn.linear_model.LogisticRegression",
    "regression": "sklearn.linear_model.Ridge",
}[TASK]


def _client() -> MlflowClient:
    return MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])


def _search(**changes) -> dict:
    return {"method": "grid", "params": {PARAM: [0.01, 1.0, 100.0]}, "folds": 3} | {
        "scoring": SCORING,
        **changes,
    }


def _set_search(project: Path, criteria: list | None = None, **changes) -> None:
    def mutate(raw: dict) -> None:
        raw["model"]["search"] = _search(**changes)
        if criteria is not None:
            raw["gate"]["criteria"] += criteria

    edit_config(project, mutate)


def test_tune_prints_the_best_parameters_and_registers_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data"]) == 0
    _set_search(project)
    capsys.readouterr()

    assert main(["tune"]) == 0, capsys.readouterr().err

    out = capsys.readouterr().out
    assert f"best of 3 candidates (3-fold cv, {SCORING}" in out
    body = json.loads((project / "reports" / "search.json").read_text())
    assert len(body["candidates"]) == 3
    assert f"{PARAM}: {body['best']['params'][PARAM]}" in out
    assert _client().search_registered_models() == []
    experiments = [e.experiment_id for e in _client().search_experiments()]
    (parent,) = _client().search_runs(experiments, filter_string="tags.kind = 'tune'")
    children = _client().search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    )
    assert len(children) == 3
    assert {child.data.params[PARAM] for child in children} == {"0.01", "1.0", "100.0"}
    assert all(f"cv_{SCORING}_std" in child.data.metrics for child in children)
    assert parent.data.metrics[f"cv_{SCORING}_mean"] == pytest.approx(body["best"]["mean"])


def test_a_search_in_training_feeds_the_gate_on_real_shaped_data(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The mixed table has a group column: the folds keep each branch on one side."""
    tables.use_mixed_table(project, TASK, ESTIMATOR)
    steady = {"metric": f"cv_{SCORING}_std", "direction": "lower", "threshold": 0.5}
    _set_search(project, criteria=[steady], enabled=True)

    assert main(["pipeline"]) == 0, capsys.readouterr().err

    metrics = json.loads((project / "reports" / "metrics.json").read_text())
    assert {f"cv_{SCORING}_mean", f"cv_{SCORING}_std"} <= set(metrics["metrics"])
    run = _client().get_run(metrics["run_id"])
    assert run.data.params["search.candidates"] == "3"
    assert run.data.params[PARAM] in {"0.01", "1.0", "100.0"}
    gate = json.loads((project / "reports" / "gate.json").read_text())
    assert f"cv_{SCORING}_std" in [check["metric"] for check in gate["checks"]]

    # A candidate whose folds disagree more than the gate allows is not registered.
    _set_search(project, criteria=[steady | {"threshold": 0.0}], enabled=True)
    capsys.readouterr()
    assert main(["pipeline"]) == EXIT_GATE
    assert f"cv_{SCORING}_std" in capsys.readouterr().err.splitlines()[-1]


@pytest.mark.parametrize(
    ("search", "criteria", "named"),
    [
        (_search(params={"no_such_param": [1, 2]}), None, "model.search: a candidate"),
        (_search(params={PARAM: {"log_uniform": [0.1, 10]}}), None, "distributions need method"),
        (_search(method="random", params={PARAM: {"log_uniform": [0, 1]}}), None, "low > 0"),
        (_search(scoring="no_metric"), None, "model.search.scoring"),
        (None, f"cv_{SCORING}_mean", "needs a search in training"),
    ],
    ids=["param", "grid-distribution", "log-zero", "scoring", "cv-without-search"],
)
def test_a_bad_search_is_a_config_error_naming_the_key(
    project: Path, capsys: pytest.CaptureFixture[str], search, criteria, named: str
) -> None:
    assert main(["data"]) == 0

    def mutate(raw: dict) -> None:
        if search is not None:
            raw["model"]["search"] = search | {"enabled": True}
        if criteria is not None:
            raw["gate"]["criteria"].append({"metric": criteria, "direction": "higher"})

    edit_config(project, mutate)
    capsys.readouterr()

    assert main(["train"]) == EXIT_USAGE

    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert named in error
    assert not (project / "reports" / "metrics.json").exists()


def test_a_random_search_draws_n_iter_candidates(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data"]) == 0
    _set_search(project, method="random", n_iter=4, params={PARAM: {"log_uniform": [0.01, 10]}})

    assert main(["tune"]) == 0, capsys.readouterr().err

    body = json.loads((project / "reports" / "search.json").read_text())
    assert len(body["candidates"]) == 4
    assert all(0.01 <= c["params"][PARAM] <= 10 for c in body["candidates"])
