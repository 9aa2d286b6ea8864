"""The generated workflows' GitHub API script against the stand-in: every answer, one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.github_stand_in import MODEL_CHECK, GitHubStandIn
from tests.helpers import TEMPLATE_DIR

SCRIPT = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / ".github" / "scripts" / "github_api.py"
MERGE, HEAD = "m" * 40, "h" * 40


def _run(
    url: str, tmp_path: Path, *args: str, unset: tuple[str, ...] = (), **variables: str
) -> tuple[int, str, str, str]:
    """(exit code, stdout, stderr, GITHUB_OUTPUT) of one call; ``variables`` override the
    environment of a workflow step, ``unset`` names those it lacks."""
    output = tmp_path / "github_output"
    output.write_text("")
    env = {**os.environ, "GITHUB_API_URL": url, "GITHUB_TOKEN": "t", "GITHUB_OUTPUT": str(output)}
    env["GITHUB_REPOSITORY"] = "acme/churn"
    env |= variables
    for name in unset:
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=120
    )
    return done.returncode, done.stdout, done.stderr, output.read_text()


def test_a_merged_pull_request_whose_check_passed_is_the_gated_one(tmp_path: Path) -> None:
    with GitHubStandIn() as github:
        github.merge(MERGE, 12, HEAD)
        github.check(HEAD, "success")
        code, out, err, outputs = _run(
            github.url, tmp_path, "gated-pr", "--sha", MERGE, "--check", MODEL_CHECK
        )

    assert (code, err) == (0, "")
    assert out == f"pr_number=12\npr_head_sha={HEAD}\n"
    assert outputs == f"pr_number=12\npr_head_sha={HEAD}\n"
    assert ("GET", f"/repos/acme/churn/commits/{HEAD}/check-runs") in [
        (r.method, r.path.partition("?")[0]) for r in github.requests
    ]


def test_the_merge_of_the_pull_request_is_found_among_others_and_other_apps_do_not_count(
    tmp_path: Path,
) -> None:
    with GitHubStandIn() as github:
        github.merge(MERGE, 11, "e" * 40, merge_commit="c" * 40)  # contains MERGE, merged later
        github.merge(MERGE, 12, HEAD)
        github.check(HEAD, "success")
        github.check(HEAD, "failure", app="some-ci-app")
        code, out, err, outputs = _run(
            github.url, tmp_path, "gated-pr", "--sha", MERGE, "--check", MODEL_CHECK
        )

    assert (code, err) == (0, ""), out
    assert outputs == f"pr_number=12\npr_head_sha={HEAD}\n"


def _no_pr(github: GitHubStandIn) -> None:
    pass


def _not_merged(github: GitHubStandIn) -> None:
    github.merge(MERGE, 13, HEAD, merged=False)


def _check_failed(github: GitHubStandIn) -> None:
    github.merge(MERGE, 14, HEAD)
    github.check(HEAD, "failure")


def _check_never_ran(github: GitHubStandIn) -> None:
    github.merge(MERGE, 15, HEAD)
    github.check(HEAD, "success", name="lint")


def _not_the_merge_commit(github: GitHubStandIn) -> None:
    # MERGE is a commit of merged PR #17, but its merge commit is another one: MERGE reached
    # main some other way (pushed directly, or brought by another merge) and was never judged.
    github.merge(MERGE, 17, HEAD, merge_commit="c" * 40)
    github.check(HEAD, "success")


def _check_from_another_app(github: GitHubStandIn) -> None:
    # Any GitHub App with checks: write can report a check run of the same name.
    github.merge(MERGE, 18, HEAD)
    github.check(HEAD, "success", app="some-ci-app")


def _actions_failed_another_app_passed(github: GitHubStandIn) -> None:
    github.merge(MERGE, 19, HEAD)
    github.check(HEAD, "failure")
    github.check(HEAD, "success", app="some-ci-app")


def _pulls_not_a_list(github: GitHubStandIn) -> None:
    github.answers[r"GET /repos/.*/pulls"] = (200, {"message": "a proxy's page"})


def _check_runs_without_runs(github: GitHubStandIn) -> None:
    github.merge(MERGE, 20, HEAD)
    github.answers[r"GET /repos/.*/check-runs"] = (200, {"total_count": 1})


def _pull_without_head(github: GitHubStandIn) -> None:
    pr = {"number": 21, "merged_at": "2026-11-23T12:00:00Z", "merge_commit_sha": MERGE}
    github.answers[r"GET /repos/.*/pulls"] = (200, [pr])


def _not_json(github: GitHubStandIn) -> None:
    github.answers[r"GET /repos/.*/pulls"] = (200, b"<html>maintenance</html>")


def _server_error(github: GitHubStandIn) -> None:
    github.fail[r"GET /repos/.*/pulls"] = (503, "Service Unavailable")


def _rate_limited(github: GitHubStandIn) -> None:
    github.merge(MERGE, 16, HEAD)
    github.fail[r"GET /repos/.*/check-runs"] = (403, "API rate limit exceeded for installation")


@pytest.mark.parametrize(
    ("given", "says"),
    [
        (_no_pr, "no pull request brought mmmmmmmmmmmm (pushed to main directly)"),
        (_not_merged, "is in #13, which is not merged"),
        (_check_failed, f"the '{MODEL_CHECK}' check of PR #14 (head hhhhhhhhhhhh) did not succeed"),
        (_check_never_ran, "did not succeed (it never ran)"),
        (_server_error, "GitHub API GET /repos/acme/churn/commits/mmmm"),
        (_rate_limited, "403 API rate limit exceeded for installation"),
        (_not_the_merge_commit, "mmmmmmmmmmmm is not the merge commit of #17"),
        (
            _check_from_another_app,
            "(it never ran in GitHub Actions; reported only by some-ci-app)",
        ),
        (
            _actions_failed_another_app_passed,
            "check of PR #19 (head hhhhhhhhhhhh) did not succeed (failure)",
        ),
        (_pulls_not_a_list, "unexpected answer for the commit's PRs (dict)"),
        (_check_runs_without_runs, "unexpected answer for check runs (NoneType)"),
        (_pull_without_head, "unexpected answer for the pull request (NoneType)"),
        (_not_json, "GitHub API GET /repos/acme/churn/commits/mmmm"),
    ],
    ids=[
        "no-pr",
        "not-merged",
        "check-failed",
        "no-check",
        "5xx",
        "rate-limit",
        "not-the-merge-commit",
        "check-from-another-app",
        "actions-failed-other-app-passed",
        "pulls-not-a-list",
        "check-runs-missing",
        "pull-without-head",
        "not-json",
    ],
)
def test_anything_but_a_gated_merge_stops_registration_in_one_line(
    tmp_path: Path, given, says: str
) -> None:
    with GitHubStandIn() as github:
        given(github)
        code, out, err, outputs = _run(
            github.url, tmp_path, "gated-pr", "--sha", MERGE, "--check", MODEL_CHECK
        )

    assert code == 1
    assert err == ""
    assert outputs == ""
    (line,) = out.splitlines()
    assert line.startswith("::error title=gated-pr::")
    assert says in line


def test_an_unreachable_api_is_one_line_too(tmp_path: Path) -> None:
    code, out, err, _ = _run("http://127.0.0.1:9", tmp_path, "publish", "--release-id", "1")

    assert (code, err) == (1, "")
    assert out.startswith("::error title=publish::GitHub API PATCH /repos/acme/churn/releases/1:")
    assert "unreachable" in out
    assert len(out.splitlines()) == 1


def test_draft_then_publish_or_discard(tmp_path: Path) -> None:
    notes = tmp_path / "card.md"
    notes.write_text("# Model card")
    asset = tmp_path / "model.tar.gz"
    asset.write_bytes(b"x" * 10)
    with GitHubStandIn() as github:
        drafted = [
            _run(
                github.url,
                tmp_path,
                "draft",
                "--tag",
                tag,
                "--notes-file",
                str(notes),
                "--asset",
                str(asset),
            )
            for tag in ("v1.0.0", "v1.0.1")
        ]
        published = _run(github.url, tmp_path, "publish", "--release-id", "1")
        discarded = _run(github.url, tmp_path, "discard", "--release-id", "2")

    assert [outputs for _, _, _, outputs in drafted] == ["release_id=1\n", "release_id=2\n"]
    assert published[0] == 0
    assert discarded[0] == 0
    assert list(github.releases) == [1]
    assert github.releases[1]["draft"] is False
    assert github.releases[1]["body"] == "# Model card"
    assert github.assets == [("model.tar.gz", 10), ("model.tar.gz", 10)]


def test_the_monitoring_issue_is_opened_once_then_updated(tmp_path: Path) -> None:
    first, second = tmp_path / "first.md", tmp_path / "second.md"
    first.write_text("## churn version 3: drift\n")
    second.write_text("## churn version 3: drift again\n")
    with GitHubStandIn() as github:
        runs = [
            _run(github.url, tmp_path, "monitor-issue", "--body-file", str(f))
            for f in (first, second)
        ]

    assert [(code, out.strip()) for code, out, _, _ in runs] == [
        (0, "created issue #1"),
        (0, "updated issue #1"),
    ]
    (issue,) = github.issues.values()
    assert issue["body"].endswith("drift again\n")
    assert issue["title"].startswith("Model monitoring")


def test_the_retraining_pull_request_is_opened_once_and_its_check_dispatched(
    tmp_path: Path,
) -> None:
    body, data = tmp_path / "issue.md", tmp_path / "train.csv"
    body.write_text("drift\n")
    args = ["retrain-pr", "--path", "data/raw/train.csv", "--file", str(data)]
    args += ["--body-file", str(body), "--workflow", "model.yml"]
    with GitHubStandIn() as github:
        data.write_text("a,b\n1,2\n")
        code, out, err, _ = _run(github.url, tmp_path, *args)
        assert (code, err) == (0, "")
        assert out.startswith("opened pull request #1 (monitor/retrain)")
        data.write_text("a,b\n1,2\n3,4\n")
        code, out, err, _ = _run(github.url, tmp_path, *args)

    assert (code, err) == (0, "")
    assert out.startswith("updated pull request #1")
    assert len(github.pull_requests) == 1
    assert github.pull_requests[1]["head"] == "monitor/retrain"
    assert [c["text"] for c in github.commits] == ["a,b\n1,2\n", "a,b\n1,2\n3,4\n"]
    assert github.dispatches == [("model.yml", "monitor/retrain")] * 2


def test_a_refused_branch_write_fails_in_one_line_and_opens_nothing(tmp_path: Path) -> None:
    body, data = tmp_path / "issue.md", tmp_path / "train.csv"
    body.write_text("drift\n")
    data.write_text("a\n1\n")
    with GitHubStandIn() as github:
        github.fail[r"PUT /repos/acme/churn/contents/.*"] = (403, "Resource not accessible")
        code, out, _, _ = _run(
            github.url,
            tmp_path,
            "retrain-pr",
            "--path",
            "d.csv",
            "--file",
            str(data),
            "--body-file",
            str(body),
            "--workflow",
            "model.yml",
        )

    assert code == 1
    assert out.strip() == (
        "::error title=retrain-pr::GitHub API PUT /repos/acme/churn/contents/d.csv: "
        "403 Resource not accessible"
    )
    assert github.pull_requests == {}
    assert github.dispatches == []


# --- Release drafts: a failed draft leaves no draft behind ---------------------------------------


def _release_files(tmp_path: Path) -> list[str]:
    """The draft job's arguments: a model card and a model archive in dist/."""
    dist = tmp_path / "dist"
    dist.mkdir(exist_ok=True)
    (dist / "model_card.md").write_text("# Model card")
    (dist / "model.tar.gz").write_bytes(b"x" * 10)
    notes, asset = str(dist / "model_card.md"), str(dist / "model.tar.gz")
    return ["draft", "--tag", "v1.0.0", "--notes-file", notes, "--asset", asset]


def _one_error(out: str, command: str) -> str:
    (line,) = out.splitlines()
    assert line.startswith(f"::error title={command}::"), line
    return line


def test_a_failed_model_upload_deletes_the_draft_and_says_so(tmp_path: Path) -> None:
    with GitHubStandIn() as github:
        github.fail[r"POST /uploads/.*"] = (500, "Server Error")
        code, out, err, outputs = _run(github.url, tmp_path, *_release_files(tmp_path))
        # The workflow's discard job runs too (the draft job wrote the id before uploading).
        discarded = _run(github.url, tmp_path, "discard", "--release-id", "1")

    assert (code, err) == (1, "")
    line = _one_error(out, "draft")
    assert "assets: 500 Server Error; deleted the draft release 1" in line
    assert outputs == "release_id=1\n"
    assert github.releases == {}
    assert discarded[:3] == (0, "draft release 1 was already deleted\n", "")


def test_a_failed_upload_whose_draft_cannot_be_deleted_is_left_to_the_discard_job(
    tmp_path: Path,
) -> None:
    with GitHubStandIn() as github:
        github.fail[r"POST /uploads/.*"] = (500, "Server Error")
        github.fail[r"DELETE /repos/.*/releases/\d+"] = (502, "Bad Gateway")
        code, out, _, outputs = _run(github.url, tmp_path, *_release_files(tmp_path))
        left = dict(github.releases)
        github.fail.clear()  # the discard job, a moment later
        discarded = _run(github.url, tmp_path, "discard", "--release-id", "1")

    assert code == 1
    line = _one_error(out, "draft")
    assert "the draft release 1 is left (GitHub API DELETE /repos/acme/churn/releases/1: 502" in (
        line
    )
    assert line.endswith("the discard job deletes it")
    assert outputs == "release_id=1\n"
    assert list(left) == [1]
    assert discarded[:2] == (0, "deleted draft release 1\n")
    assert github.releases == {}


@pytest.mark.parametrize("missing", ["model.tar.gz", "model_card.md"])
def test_a_missing_model_or_card_creates_no_draft(tmp_path: Path, missing: str) -> None:
    args = _release_files(tmp_path)
    (tmp_path / "dist" / missing).unlink()
    with GitHubStandIn() as github:
        code, out, err, outputs = _run(github.url, tmp_path, *args)

    assert (code, err, outputs) == (1, "", "")
    line = _one_error(out, "draft")
    assert f"cannot read '{tmp_path / 'dist' / missing}': No such file or directory" in line
    assert github.requests == []


def test_a_draft_whose_id_cannot_be_written_is_deleted(tmp_path: Path) -> None:
    with GitHubStandIn() as github:
        code, out, err, _ = _run(
            github.url, tmp_path, *_release_files(tmp_path), GITHUB_OUTPUT=str(tmp_path)
        )

    assert (code, err) == (1, "")
    line = _one_error(out, "draft")
    assert f"cannot write GITHUB_OUTPUT '{tmp_path}': Is a directory" in line
    assert line.endswith("deleted the draft release 1")
    assert github.releases == {}
    assert github.assets == []


def test_a_new_release_without_an_upload_url_is_deleted(tmp_path: Path) -> None:
    with GitHubStandIn() as github:
        github.releases[1] = {"id": 1, "draft": True}
        github.answers[r"POST /repos/.*/releases"] = (201, {"id": 1})
        code, out, _, _ = _run(github.url, tmp_path, *_release_files(tmp_path))

    assert code == 1
    line = _one_error(out, "draft")
    assert "unexpected answer for the new release (no str 'upload_url')" in line
    assert line.endswith("deleted the draft release 1")
    assert github.releases == {}


@pytest.mark.parametrize(
    ("lost", "says"),
    [
        ((502, {"message": "Bad Gateway"}), "502 Bad Gateway"),
        ((201, b"<html>"), "the answer is not JSON"),
        ((201, {"draft": True}), "unexpected answer for the new release (no int 'id')"),
    ],
    ids=["502", "not-json", "no-id"],
)
def test_a_draft_created_but_answered_wrongly_is_found_and_deleted(
    tmp_path: Path, lost: tuple, says: str
) -> None:
    by_hand = {"id": 1, "tag_name": "v1.0.0", "body": "my own notes", "draft": True}
    with GitHubStandIn() as github:
        github.releases[1] = by_hand
        github.garble[r"POST /repos/.*/releases"] = lost
        code, out, err, outputs = _run(github.url, tmp_path, *_release_files(tmp_path))

    assert (code, err, outputs) == (1, "", "")
    assert f"{says}; deleted the draft release 2" in _one_error(out, "draft")
    assert github.releases == {1: by_hand}  # the draft made by hand is kept
    assert github.assets == []


def test_a_refused_draft_looks_for_nothing_to_delete(tmp_path: Path) -> None:
    with GitHubStandIn() as github:
        github.fail[r"POST /repos/.*/releases"] = (422, "Validation Failed")
        code, out, _, outputs = _run(github.url, tmp_path, *_release_files(tmp_path))

    assert (code, outputs) == (1, "")
    assert _one_error(out, "draft").endswith("releases: 422 Validation Failed")
    assert [(r.method, r.path) for r in github.requests] == [("POST", "/repos/acme/churn/releases")]


def test_a_lost_draft_answer_with_the_api_gone_says_a_draft_may_be_left(tmp_path: Path) -> None:
    with GitHubStandIn() as github:
        github.garble[r"POST /repos/.*/releases"] = (504, {"message": "Gateway Timeout"})
        github.fail[r"GET /repos/.*/releases"] = (503, "Service Unavailable")
        code, out, _, _ = _run(github.url, tmp_path, *_release_files(tmp_path))

    assert code == 1
    line = _one_error(out, "draft")
    assert "504 Gateway Timeout; a draft of v1.0.0 may be left (GitHub API GET" in line
    assert line.endswith("503 Service Unavailable): delete it on the Releases page")


# --- Every subcommand: a 200 that is not what GitHub documents, a bad environment -------------


def _subcommands(tmp_path: Path) -> dict[str, list[str]]:
    """Each subcommand with arguments that work against a well-behaved API."""
    body, data = tmp_path / "body.md", tmp_path / "train.csv"
    body.write_text("report\n")
    data.write_text("a\n1\n")
    retrain = ["retrain-pr", "--path", "d.csv", "--file", str(data), "--body-file", str(body)]
    return {
        "comment": ["comment", "--pr", "3", "--body-file", str(body)],
        "gated-pr": ["gated-pr", "--sha", MERGE, "--check", MODEL_CHECK],
        "draft": _release_files(tmp_path),
        "monitor-issue": ["monitor-issue", "--body-file", str(body)],
        "retrain-pr": [*retrain, "--workflow", "model.yml"],
        "publish": ["publish", "--release-id", "1"],
        "discard": ["discard", "--release-id", "1"],
    }


# The first answer each subcommand reads, and that answer in a shape GitHub does not send.
FIRST_ANSWER = {
    "comment": (r"GET /repos/.*/comments", {"message": "a proxy's page"}, "the PR's comments"),
    "gated-pr": (r"GET /repos/.*/pulls", {"message": "a proxy's page"}, "the commit's PRs"),
    "draft": (r"POST /repos/.*/releases", ["not", "a", "release"], "the new release"),
    "monitor-issue": (r"GET /repos/.*/issues", ["not an issue"], "the open issues"),
    "retrain-pr": (r"GET /repos/.*/pulls", [None], "the open PRs"),
}


@pytest.mark.parametrize("command", list(FIRST_ANSWER))
def test_a_wrongly_shaped_answer_stops_any_command_in_one_line(
    tmp_path: Path, command: str
) -> None:
    pattern, payload, what = FIRST_ANSWER[command]
    with GitHubStandIn() as github:
        github.answers[pattern] = (200, payload)
        code, out, err, outputs = _run(github.url, tmp_path, *_subcommands(tmp_path)[command])

    assert (code, err, outputs) == (1, "", "")
    assert f"GitHub API: unexpected answer for {what}" in _one_error(out, command)
    assert github.requests[0].method == pattern.split()[0]
    assert all(r.method == "GET" for r in github.requests[1:])  # nothing written after it


@pytest.mark.parametrize(
    ("command", "pattern"),
    [
        ("comment", r"GET /repos/.*/comments"),
        ("draft", r"POST /repos/.*/releases"),
        ("monitor-issue", r"GET /repos/.*/issues"),
        ("retrain-pr", r"GET /repos/.*/pulls"),
        ("publish", r"PATCH /repos/.*/releases/1"),
        ("discard", r"DELETE /repos/.*/releases/1"),
    ],
)
def test_a_page_that_is_not_json_stops_any_command_in_one_line(
    tmp_path: Path, command: str, pattern: str
) -> None:
    with GitHubStandIn() as github:
        github.releases[1] = {"id": 1, "draft": True}
        github.answers[pattern] = (200, b"<html>maintenance</html>")
        code, out, err, outputs = _run(github.url, tmp_path, *_subcommands(tmp_path)[command])

    assert (code, err, outputs) == (1, "", "")
    assert "the answer is not JSON" in _one_error(out, command)


def test_pull_requests_of_another_shape_than_objects_are_one_line(tmp_path: Path) -> None:
    with GitHubStandIn() as github:
        github.answers[r"GET /repos/.*/pulls"] = (200, [1, "two"])
        code, out, err, outputs = _run(github.url, tmp_path, *_subcommands(tmp_path)["gated-pr"])

    assert (code, err, outputs) == (1, "", "")
    assert _one_error(out, "gated-pr").endswith("unexpected answer for the commit's PRs (int)")


def test_a_comment_answer_without_an_id_is_one_line(tmp_path: Path) -> None:
    with GitHubStandIn() as github:
        github.answers[r"POST /repos/.*/comments"] = (201, {"body": "x"})
        code, out, _, _ = _run(github.url, tmp_path, *_subcommands(tmp_path)["comment"])

    assert code == 1
    assert "unexpected answer for the new comment (no int 'id')" in _one_error(out, "comment")


@pytest.mark.parametrize("variable", ["GITHUB_TOKEN", "GITHUB_REPOSITORY"])
@pytest.mark.parametrize(
    "command", ["comment", "gated-pr", "draft", "monitor-issue", "retrain-pr", "publish", "discard"]
)
def test_a_step_without_the_token_or_repository_fails_in_one_line(
    tmp_path: Path, command: str, variable: str
) -> None:
    with GitHubStandIn() as github:
        code, out, err, outputs = _run(
            github.url, tmp_path, *_subcommands(tmp_path)[command], unset=(variable,)
        )

    assert (code, err, outputs) == (1, "", "")
    assert _one_error(out, command).endswith(
        f"::{variable} is not set: the workflow step passes it in env"
    )
    assert github.requests == []


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("api.github.example", "GITHUB_API_URL is not an http(s) URL: 'api.github.example'"),
        ("ftp://127.0.0.1", "GITHUB_API_URL is not an http(s) URL: 'ftp://127.0.0.1'"),
        ("http://127.0.0.1:port", "GITHUB_API_URL is not an http(s) URL: 'http://127.0.0.1:port'"),
        ("http://[::1", "GITHUB_API_URL is not an http(s) URL: 'http://[::1'"),
        ("http://127.0.0.1:9", "unreachable ("),
    ],
    ids=["no-scheme", "ftp", "port-not-a-number", "broken-ipv6", "refused"],
)
@pytest.mark.parametrize("command", ["comment", "draft", "monitor-issue", "retrain-pr"])
def test_a_bad_api_url_fails_in_one_line(tmp_path: Path, command: str, url: str, says: str) -> None:
    code, out, err, outputs = _run(url, tmp_path, *_subcommands(tmp_path)[command])

    assert (code, err, outputs) == (1, "", "")
    assert says in _one_error(out, command)


@pytest.mark.parametrize("command", ["monitor-issue", "retrain-pr"])
def test_a_missing_body_file_fails_in_one_line_before_any_call(
    tmp_path: Path, command: str
) -> None:
    args = _subcommands(tmp_path)[command]
    (tmp_path / "body.md").unlink()
    with GitHubStandIn() as github:
        code, out, err, _ = _run(github.url, tmp_path, *args)

    assert (code, err) == (1, "")
    line = _one_error(out, command)
    assert line.endswith(f"cannot read '{tmp_path / 'body.md'}': No such file or directory")
    assert github.requests == []


def test_a_body_file_that_is_not_text_fails_in_one_line(tmp_path: Path) -> None:
    args = _subcommands(tmp_path)["monitor-issue"]
    (tmp_path / "body.md").write_bytes(b"\xff\xfe\x00report")
    with GitHubStandIn() as github:
        code, out, _, _ = _run(github.url, tmp_path, *args)

    assert code == 1
    assert _one_error(out, "monitor-issue").endswith(f"'{tmp_path / 'body.md'}' is not UTF-8 text")
    assert github.requests == []


def test_a_missing_report_posts_the_stopped_before_the_gate_comment(tmp_path: Path) -> None:
    args = _subcommands(tmp_path)["comment"]
    (tmp_path / "body.md").unlink()
    with GitHubStandIn() as github:
        code, out, _, _ = _run(github.url, tmp_path, *args)

    assert (code, out) == (0, "created comment 1000\n")
    assert "stopped before the gate" in github.comments[1000]["body"]


def test_an_unwritable_github_output_fails_the_gated_pr_lookup_in_one_line(
    tmp_path: Path,
) -> None:
    with GitHubStandIn() as github:
        github.merge(MERGE, 12, HEAD)
        github.check(HEAD, "success")
        code, out, err, _ = _run(
            github.url, tmp_path, *_subcommands(tmp_path)["gated-pr"], GITHUB_OUTPUT=str(tmp_path)
        )

    assert (code, err) == (1, "")
    assert _one_error(out, "gated-pr").endswith(
        f"cannot write GITHUB_OUTPUT '{tmp_path}': Is a directory"
    )


@pytest.mark.parametrize("release_id", ["", "²", "1\n::set-output name=x::y"])
def test_a_release_id_that_is_not_a_number_is_one_line_and_no_call(
    tmp_path: Path, release_id: str
) -> None:
    with GitHubStandIn() as github:
        code, out, _, _ = _run(github.url, tmp_path, "publish", "--release-id", release_id)

    assert code == 1
    line = _one_error(out, "publish")
    assert f"--release-id is not a release's number: {release_id!r}" in line
    assert github.requests == []


def test_an_api_message_cannot_start_another_workflow_command(tmp_path: Path) -> None:
    with GitHubStandIn() as github:
        github.fail[r"PATCH /repos/.*/releases/1"] = (403, "100% refused\r::set-output name=x::y")
        code, out, _, _ = _run(github.url, tmp_path, "publish", "--release-id", "1")

    assert code == 1
    assert _one_error(out, "publish").endswith("403 100%25 refused")
