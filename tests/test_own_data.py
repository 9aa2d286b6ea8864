"""A generated project on the team's own data: the README's walk-through, verbatim, keeps
`make lint`, `make test` (both run by ci.yml under act, on a pull request) and `make pipeline`
green."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.act import act, commit_all, git, init_repository, pr_payload
from tests.helpers import Combo, registry_versions, run
from tests.own_data import DATA_FILE, TARGET, customer_table

pytestmark = pytest.mark.slow

# Between them every value of task, data versioning, linting, serving, docker and orchestration:
# these are the suite's runs of the generated lint and tests (slugs unique in the suite).
WALKTHROUGHS = [
    Combo(
        task="classification",
        data_versioning="dvc",
        linting="flake8+black+isort",
        serving="fastapi",
    ),
    Combo(
        task="regression",
        data_versioning="git",
        linting="ruff",
        docker="y",
        orchestration="prefect",
    ),
]


@pytest.mark.parametrize("combo", WALKTHROUGHS, ids=lambda combo: combo.id)
def test_own_data_walkthrough_keeps_ci_and_pipeline_green(
    combo: Combo, install_project, shared_venv: Path, tmp_path: Path
) -> None:
    project = install_project(combo)
    root = project.path
    init_repository(root)

    # 1. Bring the CSV.
    csv_path = customer_table(root / DATA_FILE, combo.task)
    original = hashlib.sha256(csv_path.read_bytes()).hexdigest()
    # 2. Infer the schema (replacing the sample's) and point data.path/data.target at the CSV.
    schema = project.make("schema", f"INPUT={DATA_FILE}", f"TARGET={TARGET}", "FORCE=1")
    assert schema.returncode == 0, schema.stdout + schema.stderr
    assert "wrote config/schema.yaml: 8 columns" in schema.stdout
    inferred = (root / "config" / "schema.yaml").read_text()
    assert 'customer_id: {dtype: "str", role: "id"' in inferred
    assert 'signup: {dtype: "date"' in inferred
    # 3. The default gate (skill over the baseline, no regression) needs no thresholds.
    # 4. Version the data: DVC remote + push, or commit the CSV.
    if combo.data_versioning == "dvc":
        dvc = str(shared_venv / "bin" / "dvc")
        added = run([dvc, "remote", "add", "-d", "storage", str(tmp_path / "remote")], cwd=root)
        assert added.returncode == 0, added.stderr
        pushed = project.make("data-push")
        assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    commit_all(root, "Train on our customers")
    tracked = set(git(root, "ls-files", "data/raw").splitlines())
    if combo.data_versioning == "dvc":
        assert tracked == {"data/raw/.gitkeep", f"{DATA_FILE}.dvc"}
    else:
        assert tracked == {"data/raw/.gitkeep", DATA_FILE}

    # 5. Open the pull request: ci.yml (make lint, make test) under act, as GitHub would run it.
    ci = act(root, "pull_request", "ci.yml", tmp_path / "ci", payload=pr_payload(root, 1))
    assert ci.jobs == {"lint": "success", "test": "success"}, ci.log()[-4000:]
    assert "Required test coverage of 90" in ci.log()
    # 6. The main job on the team's data.
    result = project.make("pipeline")
    assert result.returncode == 0, f"make pipeline\n{result.stdout[-4000:]}{result.stderr}"

    (version,) = registry_versions(shared_venv, "sqlite:///mlflow.db", combo.slug, root)
    assert version["aliases"] == ["staging"]
    assert version["tags"]["data_sha256"] == original
    if combo.data_versioning == "dvc":
        assert version["tags"]["data_dvc_md5"] == version["tags"]["data_md5"]
    # Nothing overwrote or added to the user's data, and no sample appeared beside it.
    assert hashlib.sha256(csv_path.read_bytes()).hexdigest() == original
    assert sorted(p.name for p in (root / "data" / "raw").iterdir() if p.suffix == ".csv") == [
        "customers.csv"
    ]
    assert git(root, "status", "--porcelain", "--", "data", "config") == ""
