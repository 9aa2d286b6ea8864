"""The generated workflows executed offline with act, for every trigger path, effects checked."""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import yaml

from tests.act import act, commit_all, git, init_repository, pr_payload, release, triggers
from tests.conftest import S3_BUCKET, S3_CREDENTIALS
from tests.github_stand_in import GitHubStandIn, OnLoopback
from tests.helpers import Combo, bake, registry_versions, run
from tests.own_data import DATA_FILE, TARGET, customer_table
from tests.team_stack import role_env

pytestmark = pytest.mark.slow

# The lifecycle tests share one module fixture: one worker runs them all (make test: loadgroup).
LIFECYCLE = pytest.mark.xdist_group("lifecycle")
REPORT_HEADER = "| metric | candidate | baseline (skill) | production | threshold | result |"


def _project(tmp_path: Path, name: str, **options: str) -> Path:
    project = bake(tmp_path / "src", Combo(**options).context() | {"project_name": name})
    init_repository(project)
    return project


def _event(project: Path, number: int, fork: bool = False) -> dict:
    """A pull_request payload for the project's HEAD (from a fork when ``fork``)."""
    payload = pr_payload(project, number)
    if fork:
        payload["pull_request"]["head"]["repo"] = {"full_name": f"someone/{project.name}"}
    return payload


def _registry(team_stack, shared_venv: Path, project: Path) -> list[dict]:
    return registry_versions(shared_venv, team_stack.uri, project.name, project, team_stack.admin)


def _aliases(team_stack, shared_venv: Path, project: Path) -> dict[int, list[str]]:
    """The aliases of each registered version, by version number."""
    return {v["version"]: v["aliases"] for v in _registry(team_stack, shared_venv, project)}


def _release_with_the_api_failing(
    project: Path, tag: str, work: Path, secrets: dict, request: str, status: int
):
    """release.yml for ``tag`` while GitHub's API answers ``status`` to ``request`` (a regex of
    "METHOD /path"); the run and the stand-in that recorded it."""
    with GitHubStandIn() as github:
        github.fail[request] = (status, "Server Error")
        result = release(project, tag, work, secrets=secrets, api_url=github.url)
    return result, github


RUNS_QUERY = """
import json, sys
from mlflow.tracking import MlflowClient
client = MlflowClient(tracking_uri=sys.argv[1])
found = {}
for experiment in client.search_experiments():
    runs = client.search_runs([experiment.experiment_id])
    found[experiment.name] = len(runs)
print(json.dumps(found))
"""


def _runs(team_stack, shared_venv: Path, project: Path) -> dict[str, int]:
    """Runs per experiment on the team server (read as the admin)."""
    query = [str(shared_venv / "bin" / "python"), "-c", RUNS_QUERY, team_stack.uri]
    result = run(query, cwd=project, env=team_stack.admin)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# Session scope: a module fixture is torn down whenever the worker moves to another module, and
# xdist interleaves modules; the group marker keeps these tests on one worker.
@pytest.fixture(scope="session")
def lifecycle(tmp_path_factory: pytest.TempPathFactory, team_stack, shared_venv: Path):
    """One project through its whole life on the team stack: pull request #7 (reader), its merge
    pushed to main (registrar), tag v0.1.0 (promoter), then #7 again, now against production."""
    tmp_path = tmp_path_factory.mktemp("lifecycle")
    project = _project(tmp_path, "wf-lifecycle")
    secrets = team_stack.provision(project, shared_venv)
    sha = git(project, "rev-parse", "HEAD")
    runs = {}
    with GitHubStandIn() as github:
        runs["pr"] = act(
            project,
            "pull_request",
            "model.yml",
            tmp_path / "pr",
            payload=_event(project, 7),
            secrets=secrets,
            api_url=github.url,
        )
        runs["after-pr"] = _runs(team_stack, shared_venv, project)
        github.merge(sha, 7, head=sha)
        github.check(sha, "success")
        runs["main"] = act(
            project, "push", "model.yml", tmp_path / "main", secrets=secrets, api_url=github.url
        )
        git(project, "tag", "v0.1.0")
        runs["tag"] = release(
            project,
            "v0.1.0",
            tmp_path / "tag",
            secrets=secrets,
            api_url=github.url,
        )
        runs["pr-again"] = act(
            project,
            "pull_request",
            "model.yml",
            tmp_path / "pr-again",
            payload=_event(project, 7),
            secrets=secrets,
            api_url=github.url,
        )
        before = _registry(team_stack, shared_venv, project)
        runs["attack"] = _attacking_pull_request(project, tmp_path, secrets, github)
        runs["attack-registry"] = (before, _registry(team_stack, shared_venv, project))
    return project, sha, runs, github, secrets, tmp_path


# A pull request's own code, run by its model check with the secrets a pull request receives:
# it tries to overwrite the production model's files and to log into the main experiment.
ATTACK = """
import os, sys, requests
from mlflow.tracking import MlflowClient
name, main_experiment = sys.argv[1], sys.argv[2]
uri, auth = os.environ["MLFLOW_TRACKING_URI"], (
    os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"])
client = MlflowClient()
production = client.get_model_version_by_alias(name, "production")
model = client.get_logged_model(production.source.removeprefix("models:/"))
path = f"{model.experiment_id}/models/{model.model_id}/artifacts/MLmodel"
artifacts = f"{uri}/api/2.0/mlflow-artifacts/artifacts"
put = requests.put(f"{artifacts}/{path}", data=b"flavors: {}", auth=auth)
print(f"attack: PUT MLmodel of production -> {put.status_code}", flush=True)
"""


def _attacking_pull_request(project: Path, tmp_path: Path, secrets: dict, github) -> object:
    """PR #8 on a branch of its own: its Makefile runs the attack before validating and trains
    into the main experiment; the branch is dropped afterwards."""
    git(project, "checkout", "-q", "-b", "attack")
    (project / "attack.py").write_text(ATTACK)
    makefile = project / "Makefile"
    original = makefile.read_text()
    makefile.write_text(
        original.replace(
            "\t$(CLI) validate\n",
            f"\t$(PYTHON) attack.py {project.name} {project.name}\n\t$(CLI) validate\n",
        ).replace("\t$(CLI) train\n", f"\tMLFLOW_EXPERIMENT_NAME={project.name} $(CLI) train\n")
    )
    commit_all(project, "A pull request that reaches for production")
    try:
        return act(
            project,
            "pull_request",
            "model.yml",
            tmp_path / "attack",
            payload=_event(project, 8),
            secrets=secrets,
            api_url=github.url,
        )
    finally:
        git(project, "checkout", "-q", "main")
        git(project, "branch", "-q", "-D", "attack")


@LIFECYCLE
def test_a_pull_request_cannot_write_what_production_is_made_of(lifecycle) -> None:
    _, _, runs, _, _, _ = lifecycle
    attack = runs["attack"]
    log = attack.log()

    # The server refused the overwrite, and the training into the main experiment failed the job.
    assert "attack: PUT MLmodel of production -> 403" in log, log[-3000:]
    assert attack.jobs["train"] == "failure", log[-3000:]
    assert any("403" in line or "PERMISSION_DENIED" in line for line in attack.commands("error"))
    # Nothing in the registry changed: the same versions, aliases and tags (model_sha256 too).
    before, after = runs["attack-registry"]
    assert after == before
    assert [v["aliases"] for v in after] == [["production", "staging"]]


@LIFECYCLE
def test_pull_request_trains_with_the_reader_and_keeps_one_sticky_comment(
    lifecycle, team_stack, shared_venv: Path
) -> None:
    project, _, runs, github, _, tmp_path = lifecycle

    for result in (runs["pr"], runs["pr-again"]):
        assert result.jobs == {"train": "success", "comment": "success"}, result.log()[-3000:]
        assert any(REPORT_HEADER in summary for summary in result.commands("summary"))
        # A fresh DVC project has no remote and no .dvc file yet: the sample stands in, and says so.
        notices = result.commands("notice")
        assert any("is not tracked by DVC yet" in notice for notice in notices), notices
    writes = [(r.method, r.path) for r in github.requests if r.method not in ("GET",)]
    # Pull request #8 (the attacking one, below) has a comment of its own.
    comment_writes = [w for w in writes if "/issues/" in w[1] and "/issues/8/" not in w[1]]
    assert comment_writes == [
        ("POST", "/repos/your-github-user/wf-lifecycle/issues/7/comments"),
        ("PATCH", "/repos/your-github-user/wf-lifecycle/issues/comments/1000"),
    ]
    (comment,) = [c for c in github.comments.values() if c["issue"] == 7]
    assert comment["body"].startswith("<!-- model-report -->\n## wf-lifecycle: gate ✅ passed")
    # The second run compared with production, which the tag had just promoted.
    assert "version 1 (`production`)" in comment["body"]
    assert "version 1 (`production`)" not in "".join(runs["pr"].commands("summary"))
    assert (tmp_path / "pr" / "artifacts" / "model" / "MLmodel").exists()
    # The pull request's run went to the experiment the reader may write, none to the main one.
    after_pr = runs["after-pr"]
    assert after_pr[f"{project.name}-pull-requests"] == 1, after_pr
    assert after_pr.get(project.name, 0) == 0, after_pr


@LIFECYCLE
def test_merge_of_a_gated_pull_request_registers_staging_with_its_number_and_head(
    lifecycle, team_stack, shared_venv: Path
) -> None:
    project, sha, runs, github, _, _ = lifecycle

    # main trains, gates and registers in one job, as the registrar (environment staging).
    assert runs["main"].jobs == {"register": "success"}, runs["main"].log()[-3000:]
    (version,) = _registry(team_stack, shared_venv, project)
    assert version["tags"]["git_sha"] == sha
    assert version["tags"]["pr_number"] == "7"
    assert version["tags"]["pr_head_sha"] == sha
    assert version["tags"]["gate"] == "passed"
    checks = [r.path for r in github.requests if "/check-runs" in r.path]
    assert checks
    assert all(f"/commits/{sha}/check-runs?check_name=Validate" in p for p in checks)


@LIFECYCLE
def test_tag_drafts_promotes_then_publishes_the_release_of_that_version(
    lifecycle, team_stack, shared_venv: Path
) -> None:
    project, sha, runs, github, _, _ = lifecycle
    tag = runs["tag"]

    assert tag.jobs == {
        "assets": "success",
        "draft": "success",
        "promote": "success",
        "publish": "success",
    }, tag.log()[-3000:]
    (version,) = _registry(team_stack, shared_venv, project)
    assert version["aliases"] == ["production", "staging"]
    (release,) = github.releases.values()
    assert release["tag_name"] == "v0.1.0"
    assert release["draft"] is False
    assert release["body"].startswith(f"# Model card: {project.name} version 1")
    assert f"- Commit: `{sha}`" in release["body"]
    assert "- Pull request: #7" in release["body"]
    assert [name for name, size in github.assets if size > 0] == ["model.tar.gz"]
    # The draft came first, the alias moved, then the draft was published.
    order = [(r.method, r.path.split("/")[-1]) for r in github.requests if "/releases" in r.path]
    assert order[0] == ("POST", "releases")
    assert order[-1] == ("PATCH", "1")


@LIFECYCLE
def test_registrar_credentials_cannot_promote_and_the_draft_is_deleted(
    lifecycle, team_stack, shared_venv: Path
) -> None:
    project, _, _, _, secrets, tmp_path = lifecycle
    git(project, "tag", "v0.1.1")
    wrong = secrets | {
        "MLFLOW_PROMOTER_USERNAME": secrets["MLFLOW_REGISTRAR_USERNAME"],
        "MLFLOW_PROMOTER_PASSWORD": secrets["MLFLOW_REGISTRAR_PASSWORD"],
    }
    with GitHubStandIn() as github:
        result = release(
            project,
            "v0.1.1",
            tmp_path / "wrong",
            secrets=wrong,
            api_url=github.url,
        )

    assert result.jobs["promote"] == "failure"
    assert result.jobs["discard"] == "success"
    assert "publish" not in result.jobs or result.jobs["publish"] != "success"
    assert any("may not move alias 'production'" in e for e in result.commands("error")), (
        result.log()[-3000:]
    )
    assert github.releases == {}  # drafted, then deleted


@LIFECYCLE
def test_failed_publication_moves_production_back(lifecycle, team_stack, shared_venv: Path) -> None:
    project, _, _, _, secrets, tmp_path = lifecycle
    # Version 2, registered from a new commit by the registrar (as a gated merge would).
    second = commit_all(project, "Second model")
    registrar = role_env(secrets, "registrar") | {
        "GITHUB_SHA": second,
        "PYTHONPATH": str(project / "src"),
    }
    module = project.name.replace("-", "_")
    pipeline = run(
        [str(shared_venv / "bin" / "python"), "-m", module, "pipeline"], cwd=project, env=registrar
    )
    assert pipeline.returncode == 0, pipeline.stdout + pipeline.stderr
    git(project, "tag", "v0.2.0")
    result, github = _release_with_the_api_failing(
        project, "v0.2.0", tmp_path / "rollback", secrets, r"PATCH /repos/.*/releases/\d+", 502
    )

    assert result.jobs["promote"] == "success"
    assert result.jobs["publish"] == "failure"
    assert result.jobs["rollback"] == "success", result.log()[-3000:]
    assert result.jobs["discard"] == "success"
    versions = _aliases(team_stack, shared_venv, project)
    assert versions == {1: ["production"], 2: ["staging"]}
    assert github.releases == {}


@LIFECYCLE
def test_a_failed_model_upload_leaves_no_draft_and_production_unmoved(
    lifecycle, team_stack, shared_venv: Path
) -> None:
    """After the failed publication above (production back on version 1, version 2 registered),
    tag v0.2.1 on the same commit while the API refuses the model's upload."""
    project, _, _, _, secrets, tmp_path = lifecycle
    git(project, "tag", "v0.2.1")
    result, github = _release_with_the_api_failing(
        project, "v0.2.1", tmp_path / "upload", secrets, r"POST /uploads/.*/assets", 500
    )

    assert result.jobs["assets"] == "success", result.log()[-3000:]
    assert result.jobs["draft"] == "failure"
    assert "promote" not in result.jobs or result.jobs["promote"] != "success"
    (line,) = result.commands("error")
    assert "deleted the draft release" in line, line
    assert github.releases == {}  # the draft the job made was deleted by the job itself
    versions = _aliases(team_stack, shared_venv, project)
    assert versions == {1: ["production"], 2: ["staging"]}


class LostAnswerProxy(OnLoopback):
    """In front of the tracking server: forwards every request; those ``hold`` selects are
    forwarded too (the server does the work), then their answer is kept ``seconds`` -- past the
    client's timeout, so the client sees a failure of a change that did happen."""

    def __init__(self, upstream: str, hold, seconds: float) -> None:
        self.upstream, self.hold, self.seconds = upstream.rstrip("/"), hold, seconds
        self.held: list[dict] = []

    def __enter__(self) -> LostAnswerProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")
                }
                request = urllib.request.Request(
                    proxy.upstream + self.path, data=body or None, method=self.command
                )
                for name, value in headers.items():
                    request.add_header(name, value)
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        status, answer = response.status, response.read()
                        kind = response.headers.get("Content-Type", "application/json")
                except urllib.error.HTTPError as error:
                    status, answer = error.code, error.read()
                    kind = error.headers.get("Content-Type", "application/json")
                if proxy.hold(self.command, self.path, body):
                    proxy.held.append({"path": self.path, "status": status})
                    time.sleep(proxy.seconds)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:  # the client gave up waiting
                    pass

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _forward

        return self.serve(Handler)


def test_a_production_move_that_times_out_after_the_server_applied_it_is_moved_back(
    tmp_path: Path, team_stack, shared_venv: Path
) -> None:
    """Given production on version 1 and version 2 registered from the tagged commit, when the
    request moving production to 2 reaches the server but its answer comes after the client's
    timeout, then the release reads production back, moves it back to 1, deletes the draft and
    ends red with one line saying production is on version 1."""
    project = _project(tmp_path, "wf-lost-answer")
    config = project / "config" / "pipeline.yaml"
    raw = yaml.safe_load(config.read_text())
    raw["tracking"] |= {"request_timeout": 3, "request_retries": 1}  # the client gives up at ~7 s
    config.write_text(yaml.safe_dump(raw, sort_keys=False))
    first = commit_all(project, "Quick tracking timeouts")
    secrets = team_stack.provision(project, shared_venv)
    python = str(shared_venv / "bin" / "python")
    module = project.name.replace("-", "_")

    def cli(role: str, sha: str, *args: str) -> None:
        env = role_env(secrets, role) | {"GITHUB_SHA": sha, "PYTHONPATH": str(project / "src")}
        done = run([python, "-m", module, *args], cwd=project, env=env)
        assert done.returncode == 0, done.stdout + done.stderr

    cli("registrar", first, "pipeline")
    cli("promoter", first, "promote", "--version", "1")
    second = commit_all(project, "Second model")
    cli("registrar", second, "pipeline")
    git(project, "tag", "v0.2.0")

    def moves_production_to_2(method: str, path: str, body: bytes) -> bool:
        if method != "POST" or not path.endswith("/registered-models/alias"):
            return False
        request = json.loads(body)
        return (request.get("alias"), str(request.get("version"))) == ("production", "2")

    with (
        LostAnswerProxy(team_stack.uri, moves_production_to_2, seconds=10) as proxy,
        GitHubStandIn() as github,
    ):
        result = release(
            project,
            "v0.2.0",
            tmp_path / "act",
            secrets=secrets | {"MLFLOW_TRACKING_URI": proxy.url},
            api_url=github.url,
        )

    assert proxy.held  # the move reached the server ...
    assert all(h["status"] == 200 for h in proxy.held)  # ... which applied it
    assert result.jobs["promote"] == "failure", result.log()[-4000:]
    assert result.jobs["discard"] == "success"
    assert result.jobs.get("publish") != "success"
    versions = _aliases(team_stack, shared_venv, project)
    assert versions == {1: ["production"], 2: ["staging"]}
    said = [e for e in result.commands("error") if "production is on version" in e]
    assert said == [
        "the move to version 2 failed; production is on version 1, as before this release "
        "(moved back: the server had applied the move)"
    ], result.commands("error")
    assert github.releases == {}


@pytest.mark.parametrize("case", ["main-no-uri", "tag-no-reader"])
def test_a_required_registry_with_a_secret_missing_fails_in_one_line(
    tmp_path: Path, case: str
) -> None:
    """MLFLOW_REGISTRY=required (a repository variable): a push to main or a tag whose job lacks
    a secret it needs goes red with one line naming it, instead of a green no-op."""
    project = _project(tmp_path, f"wf-required-{case}")
    required = {"MLFLOW_REGISTRY": "required"}
    if case == "main-no-uri":
        result = act(project, "push", "model.yml", tmp_path / "act", variables=required)
        job, missing = (
            "register",
            (
                "the MLFLOW_TRACKING_URI secret and the registrar's MLFLOW_REGISTRAR_USERNAME + "
                "MLFLOW_REGISTRAR_PASSWORD (or MLFLOW_REGISTRAR_TOKEN) in environment staging"
            ),
        )
    else:
        git(project, "tag", "v0.1.0")
        result = release(
            project,
            "v0.1.0",
            tmp_path / "act",
            secrets={"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"},
            variables=required,
        )
        job, missing = (
            "assets",
            (
                "the reader's MLFLOW_READER_USERNAME + MLFLOW_READER_PASSWORD "
                "(or MLFLOW_READER_TOKEN) in repository secrets"
            ),
        )

    assert result.jobs == {job: "failure"}, result.log()[-3000:]
    (error,) = result.commands("error")
    assert error.startswith(f"MLFLOW_REGISTRY is 'required' but {missing} is missing or empty")
    assert "\n" not in error


def test_pull_request_failing_the_gate_fails_the_check_and_registers_nothing(
    tmp_path: Path, team_stack, shared_venv: Path
) -> None:
    project = _project(tmp_path, "wf-pr-fail")
    config = project / "config" / "pipeline.yaml"
    raw = yaml.safe_load(config.read_text())
    raw["gate"]["criteria"][0]["threshold"] = 0.999
    config.write_text(yaml.safe_dump(raw, sort_keys=False))
    commit_all(project, "Raise a gate threshold")
    secrets = team_stack.provision(project, shared_venv)

    with GitHubStandIn() as github:
        result = act(
            project,
            "pull_request",
            "model.yml",
            tmp_path / "act",
            payload=_event(project, 8),
            secrets=secrets,
            api_url=github.url,
        )

    assert result.jobs == {"train": "failure", "comment": "success"}, result.log()[-3000:]
    assert result.returncode != 0
    (comment,) = github.comments.values()
    assert "gate ❌ failed" in comment["body"]
    assert "fail (threshold)" in comment["body"]
    assert _registry(team_stack, shared_venv, project) == []


@pytest.mark.parametrize("case", ["no-pr", "check-failed"])
def test_push_to_main_without_a_gated_pull_request_registers_nothing(
    tmp_path: Path, team_stack, shared_venv: Path, case: str
) -> None:
    project = _project(tmp_path, f"wf-ungated-{case}")
    sha = git(project, "rev-parse", "HEAD")
    secrets = team_stack.provision(project, shared_venv)
    with GitHubStandIn() as github:
        if case == "check-failed":
            github.merge(sha, 9, head="f" * 40)
            github.check("f" * 40, "failure")
        result = act(
            project, "push", "model.yml", tmp_path / "act", secrets=secrets, api_url=github.url
        )

    # Stopped before training: nothing an ungated commit trains reaches the main experiment.
    assert result.jobs == {"register": "failure"}, result.log()[-3000:]
    steps = {e.get("step") for e in result.events}
    assert "The merged pull request and its model check" in steps
    assert "Train" not in steps
    (error,) = [e for e in result.commands("error") if "not registering" in e]
    said = "pushed to main directly" if case == "no-pr" else "check of PR #9"
    assert said in error
    assert _registry(team_stack, shared_venv, project) == []


def test_fork_pull_request_gets_no_secrets_no_comment_and_a_summary(tmp_path: Path) -> None:
    project = _project(tmp_path, "wf-fork")
    with GitHubStandIn() as github:
        result = act(
            project,
            "pull_request",
            "model.yml",
            tmp_path / "act",
            payload=_event(project, 11, fork=True),
            api_url=github.url,
        )

    assert result.jobs.get("train") == "success", result.log()[-3000:]
    assert result.jobs.get("comment") != "success"
    assert github.requests == []
    assert any(REPORT_HEADER in summary for summary in result.commands("summary"))
    assert any("MLFLOW_TRACKING_URI is not set" in n for n in result.commands("notice"))


# ci.yml on pull_request runs in tests/test_own_data.py, on each walk-through's own data.
def test_model_workflow_on_dispatch_trains_and_registers_nothing(
    tmp_path: Path, team_stack, shared_venv: Path
) -> None:
    project = _project(tmp_path, "wf-dispatch")
    secrets = team_stack.provision(project, shared_venv)

    git(project, "checkout", "-q", "-b", "feature/tune")
    dispatch = act(
        project, "workflow_dispatch", "model.yml", tmp_path / "dispatch", secrets=secrets
    )

    # The CI jobs run for every push (no branch or path filter on ci.yml's push trigger).
    assert triggers(project, "ci.yml", "push", ["README.md"])
    assert dispatch.jobs.get("train") == "success", dispatch.log()[-3000:]
    assert dispatch.jobs.get("register") != "success"
    assert _registry(team_stack, shared_venv, project) == []


def test_tag_without_a_registered_version_fails_clearly(
    tmp_path: Path, team_stack, shared_venv: Path
) -> None:
    project = _project(tmp_path, "wf-tag-unknown")
    secrets = team_stack.provision(project, shared_venv)
    git(project, "tag", "v9.9.9")
    with GitHubStandIn() as github:
        result = release(
            project,
            "v9.9.9",
            tmp_path / "act",
            secrets=secrets,
            api_url=github.url,
        )

    assert result.jobs == {"assets": "failure"}
    assert any(
        "no registered version was built from git_sha=" in error
        for error in result.commands("error")
    )
    assert github.releases == {}


def test_push_to_main_without_secrets_is_green_and_says_what_to_set(tmp_path: Path) -> None:
    project = _project(tmp_path, "wf-main-nosecrets")

    model = act(project, "push", "model.yml", tmp_path / "act-model")
    git(project, "tag", "v0.1.0")
    tagged = release(project, "v0.1.0", tmp_path / "act-release")

    assert model.jobs == {"register": "success"}, model.log()[-3000:]
    assert tagged.jobs == {"assets": "success"}, tagged.log()[-3000:]
    notices = model.commands("notice") + tagged.commands("notice")
    assert any("Set the MLFLOW_TRACKING_URI secret" in n for n in notices), notices
    assert any("register models" in n for n in notices)
    assert any("promote models" in n for n in notices)


@pytest.fixture(scope="session")
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


def _dvc_read(credentials: dict[str, str]) -> dict[str, str]:
    """The DVC remote's key as the read-only secrets the model workflow passes to `dvc pull`."""
    return {
        "DVC_READ_ACCESS_KEY_ID": credentials["AWS_ACCESS_KEY_ID"],
        "DVC_READ_SECRET_ACCESS_KEY": credentials["AWS_SECRET_ACCESS_KEY"],
    }


def _push_data(project, message: str) -> str:
    """make data-push with the remote's credentials, commit; leave neither data nor DVC cache,
    as in a fresh checkout on a runner. Returns the new DVC md5."""
    pushed = project.make("data-push", env=S3_CREDENTIALS)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    commit_all(project.path, message)
    (project.path / DATA_FILE).unlink()
    shutil.rmtree(project.path / ".dvc" / "cache", ignore_errors=True)
    return yaml.safe_load((project.path / f"{DATA_FILE}.dvc").read_text())["outs"][0]["md5"]


@pytest.mark.xdist_group("dvc")
def test_pull_request_trains_on_data_pulled_from_the_dvc_remote_and_a_data_only_change_triggers(
    dvc_project, tmp_path: Path, team_stack, shared_venv: Path
) -> None:
    root = dvc_project.path
    secrets = {**team_stack.provision(root, shared_venv), **_dvc_read(S3_CREDENTIALS)}
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
                payload=pr_payload(root, number),
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
    assert _registry(team_stack, shared_venv, root) == []


@pytest.mark.xdist_group("dvc")
def test_pull_request_without_the_remotes_credentials_fails_in_one_line(
    dvc_project, tmp_path: Path, team_stack, shared_venv: Path
) -> None:
    root = dvc_project.path
    if not (root / f"{DATA_FILE}.dvc").exists():
        _push_data(dvc_project, "Train on our customers")
    result = act(
        root,
        "pull_request",
        "model.yml",
        tmp_path / "act",
        payload=pr_payload(root, 23),
        secrets=team_stack.provision(root, shared_venv),
    )

    assert result.jobs["train"] == "failure"
    errors = [e for e in result.commands("error") if "dvc pull" in e]
    assert errors, result.log()[-3000:]
    assert "\n" not in errors[0]


def _unlabelled(text: str) -> str:
    """The CSV ``text`` without its last column (the target)."""
    return "".join(line.rsplit(",", 1)[0] + "\n" for line in text.splitlines())


def _iris_rows(project: Path, species: str | None = None, shift: float = 0.0) -> str:
    """CSV text of the project's training rows (one species only when given), every measure
    moved by ``shift`` (so the rows are new ones)."""
    lines = (project / "data" / "raw" / "iris.csv").read_text().splitlines()
    rows = [line.split(",") for line in lines[1:] if species is None or line.endswith(species)]
    moved = [[f"{float(v) + shift:.2f}" for v in row[:-1]] + row[-1:] for row in rows]
    return "\n".join([lines[0], *(",".join(row) for row in moved)]) + "\n"


def test_monitor_workflow_opens_one_issue_and_one_retraining_pull_request_on_drift(
    tmp_path: Path, install_project
) -> None:
    """Scheduled monitoring (dispatched here) against a production model in a registry: a batch
    like the training data opens nothing; a drifted batch with its labels opens one issue and
    one retraining pull request (the labelled rows added to the training data) whose model
    check is dispatched; a second drifted run updates both instead of opening more."""
    installed = install_project(Combo(data_versioning="git"), name="wf-monitor")
    project = installed.path
    store = f"sqlite:///{tmp_path / 'registry.db'}"
    env = {"MLFLOW_TRACKING_URI": store}
    for target in ("pipeline", "promote"):
        done = installed.make(target, "VERSION=1", env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    batch = project / "data" / "monitoring" / "batch.csv"
    batch.write_text(_unlabelled(_iris_rows(project)))
    init_repository(project)
    secrets = {"MLFLOW_TRACKING_URI": store}

    with GitHubStandIn() as github:
        quiet = act(
            project,
            "workflow_dispatch",
            "monitor.yml",
            tmp_path / "quiet",
            secrets=secrets,
            api_url=github.url,
        )
        assert quiet.jobs == {"check": "success"}, quiet.log()[-3000:]
        assert github.requests == []

        labelled = _iris_rows(project, "setosa", shift=0.05)
        (project / "data" / "monitoring" / "labelled.csv").write_text(labelled)
        batch.write_text(_unlabelled(labelled))
        commit_all(project, "The batch of the week, labelled")
        runs = [
            act(
                project,
                "workflow_dispatch",
                "monitor.yml",
                tmp_path / name,
                secrets=secrets,
                api_url=github.url,
            )
            for name in ("drift", "again")
        ]

    for run_ in runs:
        assert run_.jobs == {"check": "success", "refresh": "success", "report": "success"}, (
            run_.log()[-3000:]
        )
    assert any("drift" in summary for summary in runs[0].commands("summary"))
    (issue,) = github.issues.values()
    assert "version 1: ❌ drift" in issue["body"]
    assert [
        r.method
        for r in github.requests
        if r.path.startswith("/repos/your-github-user/wf-monitor/issues")
    ] == ["GET", "POST", "GET", "PATCH"]
    (pr,) = github.pull_requests.values()
    assert (pr["head"], pr["base"]) == ("monitor/retrain", "main")
    assert [c["path"] for c in github.commits] == ["data/raw/iris.csv"] * 2
    training = github.commits[-1]["text"].splitlines()
    trained_on = (project / "data" / "raw" / "iris.csv").read_text().splitlines()
    new_rows = set(labelled.splitlines()[1:])
    assert len(training) == len(trained_on) + len(new_rows)
    assert set(training) - set(trained_on) == new_rows
    assert github.dispatches == [("model.yml", "monitor/retrain")] * 2
