"""The generated workflows executed offline with act, for every trigger path, effects checked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.act import act, commit_all, git, init_repository, triggers
from tests.conftest import S3_BUCKET, S3_CREDENTIALS
from tests.github_stand_in import GitHubStandIn
from tests.helpers import Combo, bake, registry_versions, run
from tests.own_data import DATA_FILE, TARGET, customer_table

pytestmark = pytest.mark.slow

REPORT_HEADER = "| metric | candidate | baseline (skill) | production | threshold | result |"


def _project(tmp_path: Path, name: str, **options: str) -> Path:
    project = bake(tmp_path / "src", Combo(**options).context() | {"project_name": name})
    init_repository(project)
    return project


def _pr_payload(project: Path, number: int) -> dict:
    repo = f"your-github-user/{project.name}"
    sha = git(project, "rev-parse", "HEAD")
    side = {"ref": "feature", "sha": sha, "repo": {"full_name": repo}}
    return {
        "number": number,
        "pull_request": {"number": number, "head": side, "base": {**side, "ref": "main"}},
        "repository": {"full_name": repo},
    }


def test_push_to_a_feature_branch_runs_ci(tmp_path: Path) -> None:
    project = _project(tmp_path, "wf-ci-push")
    git(project, "checkout", "-q", "-b", "feature/tune")

    result = act(project, "push", "ci.yml", tmp_path / "act")

    assert result.jobs == {"lint": "success", "test": "success"}, result.log()[-3000:]
    assert result.returncode == 0


def test_pull_request_passing_the_gate_posts_then_updates_one_comment(
    tmp_path: Path, mlflow_server: str, shared_venv: Path
) -> None:
    project = _project(tmp_path, "wf-pr-pass")
    secrets = {"MLFLOW_TRACKING_URI": mlflow_server}
    with GitHubStandIn() as github:
        runs = [
            act(
                project,
                "pull_request",
                "model.yml",
                tmp_path / work,
                payload=_pr_payload(project, 7),
                secrets=secrets,
                api_url=github.url,
            )
            for work in ("act1", "act2")
        ]

    for result in runs:
        assert result.jobs == {"train": "success", "comment": "success"}, result.log()[-3000:]
        assert any(REPORT_HEADER in summary for summary in result.commands("summary"))
        # A fresh DVC project has no remote and no .dvc file yet: the sample stands in, and says so.
        notices = result.commands("notice")
        assert any("is not tracked by DVC yet" in notice for notice in notices), notices
    writes = [(r.method, r.path) for r in github.requests if r.method != "GET"]
    assert writes == [
        ("POST", "/repos/your-github-user/wf-pr-pass/issues/7/comments"),
        ("PATCH", "/repos/your-github-user/wf-pr-pass/issues/comments/1000"),
    ]
    (comment,) = github.comments.values()
    assert comment["body"].startswith("<!-- model-report -->\n## wf-pr-pass: gate ✅ passed")
    assert REPORT_HEADER in comment["body"]
    assert (tmp_path / "act1" / "artifacts" / "model" / "MLmodel").exists()
    assert registry_versions(shared_venv, mlflow_server, project.name, project) == []


def test_pull_request_failing_the_gate_fails_the_check_and_registers_nothing(
    tmp_path: Path, mlflow_server: str, shared_venv: Path
) -> None:
    project = _project(tmp_path, "wf-pr-fail")
    config = project / "config" / "pipeline.yaml"
    raw = yaml.safe_load(config.read_text())
    raw["gate"]["criteria"][0]["threshold"] = 0.999
    config.write_text(yaml.safe_dump(raw, sort_keys=False))
    commit_all(project, "Raise a gate threshold")

    with GitHubStandIn() as github:
        result = act(
            project,
            "pull_request",
            "model.yml",
            tmp_path / "act",
            payload=_pr_payload(project, 8),
            secrets={"MLFLOW_TRACKING_URI": mlflow_server},
            api_url=github.url,
        )

    assert result.jobs == {"train": "failure", "comment": "success"}, result.log()[-3000:]
    assert result.returncode != 0
    (comment,) = github.comments.values()
    assert "gate ❌ failed" in comment["body"]
    assert "fail (threshold)" in comment["body"]
    assert registry_versions(shared_venv, mlflow_server, project.name, project) == []


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory, mlflow_server: str):
    """Push to main with the tracking secret, then push tag v0.1.0 on the same commit."""
    tmp_path = tmp_path_factory.mktemp("release")
    project = _project(tmp_path, "wf-main-release")
    sha = git(project, "rev-parse", "HEAD")
    secrets = {"MLFLOW_TRACKING_URI": mlflow_server}
    with GitHubStandIn() as github:
        main = act(
            project, "push", "model.yml", tmp_path / "act-main", secrets=secrets, api_url=github.url
        )
        git(project, "tag", "v0.1.0")
        tag = act(
            project,
            "push",
            "release.yml",
            tmp_path / "act-tag",
            secrets=secrets,
            payload={"ref": "refs/tags/v0.1.0"},
            api_url=github.url,
        )
    return project, sha, main, tag, github


def test_push_to_main_registers_staging_on_the_tracking_server(
    released, mlflow_server: str, shared_venv: Path
) -> None:
    project, sha, main, _, _ = released

    assert main.jobs == {"train": "success", "register": "success"}, main.log()[-3000:]
    (version,) = registry_versions(shared_venv, mlflow_server, project.name, project)
    assert "staging" in version["aliases"]
    assert version["tags"]["git_sha"] == sha
    assert version["tags"]["pr_number"] == "42"
    assert version["tags"]["gate"] == "passed"


def test_tag_promotes_that_version_and_publishes_the_model_card(
    released, mlflow_server: str, shared_venv: Path
) -> None:
    project, sha, _, tag, github = released

    assert tag.jobs == {"promote": "success"}, tag.log()[-3000:]
    (version,) = registry_versions(shared_venv, mlflow_server, project.name, project)
    assert version["aliases"] == ["production", "staging"]
    (release,) = github.releases
    assert release["tag_name"] == "v0.1.0"
    assert release["body"].startswith(f"# Model card: {project.name} version 1")
    assert f"- Commit: `{sha}`" in release["body"]
    assert "## Metrics (test split)" in release["body"]
    assert "## Parameters" in release["body"]
    assert [name for name, size in github.assets if size > 0] == ["model.tar.gz"]


def test_tag_without_a_registered_version_fails_clearly(tmp_path: Path, mlflow_server: str) -> None:
    project = _project(tmp_path, "wf-tag-unknown")
    git(project, "tag", "v9.9.9")
    with GitHubStandIn() as github:
        result = act(
            project,
            "push",
            "release.yml",
            tmp_path / "act",
            secrets={"MLFLOW_TRACKING_URI": mlflow_server},
            payload={"ref": "refs/tags/v9.9.9"},
            api_url=github.url,
        )

    assert result.jobs == {"promote": "failure"}
    assert any("no registered version has git_sha=" in error for error in result.commands("error"))
    assert github.releases == []


def test_push_to_main_without_secrets_is_green_and_says_what_to_set(
    tmp_path: Path, mlflow_server: str, shared_venv: Path
) -> None:
    project = _project(tmp_path, "wf-main-nosecrets")

    model = act(project, "push", "model.yml", tmp_path / "act-model")
    git(project, "tag", "v0.1.0")
    release = act(
        project,
        "push",
        "release.yml",
        tmp_path / "act-release",
        payload={"ref": "refs/tags/v0.1.0"},
    )

    assert model.jobs == {"train": "success", "register": "success"}, model.log()[-3000:]
    assert release.jobs == {"promote": "success"}, release.log()[-3000:]
    notices = model.commands("notice") + release.commands("notice")
    assert any("Set the MLFLOW_TRACKING_URI secret" in n for n in notices), notices
    assert any("Registration skipped" in n or "register models" in n for n in notices)
    assert any("promote models" in n for n in notices)
    assert registry_versions(shared_venv, mlflow_server, project.name, project) == []


@pytest.fixture(scope="module")
def dvc_project(
    tmp_path_factory: pytest.TempPathFactory, install_project, shared_venv: Path, s3_server: str
):
    """A project on the team's own data, pushed to an S3 remote (moto on 127.0.0.1) with DVC."""
    # Its own name: on the shared tracking server a model of the same name would be production.
    project = install_project(Combo(task="classification", linting="ruff"), name="wf-dvc-data")
    root = project.path
    init_repository(root)
    customer_table(root / DATA_FILE, "classification", rows=400)
    schema = project.make("schema", f"INPUT={DATA_FILE}", f"TARGET={TARGET}", "FORCE=1")
    assert schema.returncode == 0, schema.stdout + schema.stderr
    bucket = f"s3://{S3_BUCKET}/{root.name}"
    dvc = str(shared_venv / "bin" / "dvc")
    for args in (
        ["remote", "add", "-d", "storage", bucket],
        ["remote", "modify", "storage", "endpointurl", s3_server],
    ):
        result = run([dvc, *args], cwd=root)
        assert result.returncode == 0, result.stderr
    return project


def _push_data(project, message: str) -> str:
    """make data-push with the remote's credentials, commit; leave neither data nor DVC cache,
    as in a fresh checkout on a runner. Returns the new DVC md5."""
    pushed = project.make("data-push", env=S3_CREDENTIALS)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    commit_all(project.path, message)
    (project.path / DATA_FILE).unlink()
    shutil.rmtree(project.path / ".dvc" / "cache", ignore_errors=True)
    return yaml.safe_load((project.path / f"{DATA_FILE}.dvc").read_text())["outs"][0]["md5"]


def test_pull_request_trains_on_data_pulled_from_the_dvc_remote_and_a_data_only_change_triggers(
    dvc_project, tmp_path: Path, mlflow_server: str, shared_venv: Path
) -> None:
    root = dvc_project.path
    secrets = {"MLFLOW_TRACKING_URI": mlflow_server, **S3_CREDENTIALS}
    first = _push_data(dvc_project, "Train on our customers")
    customer_table(root / DATA_FILE, "classification", rows=480, seed=1)
    second = _push_data(dvc_project, "More customers")
    changed = git(root, "diff", "--name-only", "HEAD~1", "HEAD").splitlines()
    commits = {21: git(root, "rev-parse", "HEAD~1"), 22: git(root, "rev-parse", "HEAD")}

    # A commit that changes nothing but the .dvc pointer starts the model workflow.
    assert changed == [f"{DATA_FILE}.dvc"]
    assert first != second
    assert triggers(root, "model.yml", "pull_request", changed)
    assert triggers(root, "model.yml", "push", changed)
    assert not triggers(root, "model.yml", "pull_request", ["README.md"])

    summaries = {}
    with GitHubStandIn() as github:
        for number, sha in commits.items():
            git(root, "checkout", "-q", sha)
            result = act(
                root,
                "pull_request",
                "model.yml",
                tmp_path / f"act-{number}",
                payload=_pr_payload(root, number),
                secrets=secrets,
                api_url=github.url,
            )
            assert result.jobs == {"train": "success", "comment": "success"}, result.log()[-4000:]
            summaries[number] = "".join(result.commands("summary"))
            assert not any("Sample data" in n for n in result.commands("notice"))
        git(root, "checkout", "-q", "main")

    assert f"DVC md5 `{first}`" in summaries[21]
    assert "400 rows" in summaries[21]
    assert f"DVC md5 `{second}`" in summaries[22]
    assert "480 rows" in summaries[22]
    bodies = {c["issue"]: c["body"] for c in github.comments.values()}
    assert f"DVC md5 `{second}`" in bodies[22]
    assert registry_versions(shared_venv, mlflow_server, root.name, root) == []


def test_pull_request_without_the_remotes_credentials_fails_in_one_line(
    dvc_project, tmp_path: Path, mlflow_server: str
) -> None:
    root = dvc_project.path
    if not (root / f"{DATA_FILE}.dvc").exists():
        _push_data(dvc_project, "Train on our customers")
    result = act(
        root,
        "pull_request",
        "model.yml",
        tmp_path / "act",
        payload=_pr_payload(root, 23),
        secrets={"MLFLOW_TRACKING_URI": mlflow_server},
    )

    assert result.jobs["train"] == "failure"
    errors = [e for e in result.commands("error") if "dvc pull" in e]
    assert errors, result.log()[-3000:]
    assert "\n" not in errors[0]
