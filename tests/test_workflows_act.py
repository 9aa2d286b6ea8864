"""The generated workflows executed offline with act, for every trigger path, effects checked."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.act import act, commit_all, git, init_repository
from tests.github_stand_in import GitHubStandIn
from tests.helpers import Combo, bake, registry_versions

pytestmark = pytest.mark.slow

REPORT_HEADER = "| metric | candidate | production | threshold | result |"


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
    commit_all(project, "Raise the accuracy threshold")

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
