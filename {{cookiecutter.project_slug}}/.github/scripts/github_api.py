"""GitHub REST calls the workflows make: sticky PR comment, the gated pull request of a commit,
draft / publish / discard of a release, the monitoring issue and the retraining pull request.

Standard library only, so a job can run it without installing the project. It honours
GITHUB_API_URL (set by Actions; tests point it at a local stand-in), GITHUB_TOKEN and
GITHUB_OUTPUT. Every failure, the API's included, ends as one `::error::` line and exit 1.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

MARKER = "<!-- model-report -->"
MONITOR_MARKER = "<!-- model-monitor -->"
MONITOR_TITLE = "Model monitoring: production drifted or decayed"
RETRAIN_BRANCH = "monitor/retrain"
# The app whose check runs count: a workflow job's check is reported by GitHub Actions, whose
# app id (15368) the rulesets in .github/rulesets/ pin their required checks to.
ACTIONS_APP = "github-actions"
NO_REPORT = (
    "❌ The model pipeline stopped before the gate (data validation or training failed): "
    "see the workflow run for the error."
)


class Refused(Exception):
    """The API answered, and the answer means: stop (no merged PR, failed check, API error)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def api(method: str, url: str, body: object = None, data: bytes | None = None) -> object:
    """One request; ``url`` is absolute or relative to GITHUB_API_URL."""
    if not url.startswith("http"):
        url = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/") + url
    headers = {
        "Accept": "application/vnd.github+json",
        "Authorization": f"Bearer {os.environ['GITHUB_TOKEN']}",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    elif data is not None:
        headers["Content-Type"] = "application/octet-stream"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    path = urllib.parse.urlsplit(url).path
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = response.read()
    except urllib.error.HTTPError as error:
        message = f"GitHub API {method} {path}: {error.code} {_reason(error)}"
        raise Refused(message, error.code) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise Refused(f"GitHub API {method} {path}: unreachable ({reason})") from None
    try:
        return json.loads(payload) if payload else None
    except ValueError:
        raise Refused(f"GitHub API {method} {path}: the answer is not JSON") from None


def _reason(error: urllib.error.HTTPError) -> str:
    """GitHub's message (e.g. 'API rate limit exceeded ...'), else the HTTP reason."""
    try:
        message = json.loads(error.read() or b"{}").get("message")
    except (ValueError, AttributeError):
        message = None
    return str(message or error.reason).splitlines()[0]


def upsert_comment(repo: str, number: int, body: str) -> str:
    """Create the report comment, or update it if this workflow posted one before."""
    body = f"{MARKER}\n{body}"
    page = 1
    while comments := api(
        "GET", f"/repos/{repo}/issues/{number}/comments?per_page=100&page={page}"
    ):
        for comment in comments:
            if comment["body"].startswith(MARKER):
                api("PATCH", f"/repos/{repo}/issues/comments/{comment['id']}", {"body": body})
                return f"updated comment {comment['id']}"
        page += 1
    created = api("POST", f"/repos/{repo}/issues/{number}/comments", {"body": body})
    return f"created comment {created['id']}"


def gated_pr(repo: str, sha: str, check: str) -> dict[str, str]:
    """The merged pull request whose merge commit is ``sha`` and whose head passed ``check``,
    a check run reported by GitHub Actions itself (any app may report a check of that name)."""
    pulls = _shaped(api("GET", f"/repos/{repo}/commits/{sha}/pulls"), list, "the commit's PRs")
    merged = [pr for pr in pulls if pr.get("merged_at")]
    if not merged:
        if pulls:
            numbers = ", ".join(f"#{pr.get('number')}" for pr in pulls)
            raise Refused(f"not registering: {sha[:12]} is in {numbers}, which is not merged")
        raise Refused(
            f"not registering: no pull request brought {sha[:12]} (pushed to main directly)"
        )
    # Only the merge itself: a commit a merged pull request merely contains (pushed to main
    # before, or brought by another merge) is not what that pull request's check judged.
    pr = next((p for p in merged if p.get("merge_commit_sha") == sha), None)
    if pr is None:
        numbers = ", ".join(f"#{p.get('number')}" for p in merged)
        raise Refused(f"not registering: {sha[:12]} is not the merge commit of {numbers}")
    head = _shaped(pr.get("head"), dict, "the pull request").get("sha")
    number = pr.get("number")
    if not isinstance(head, str) or not isinstance(number, int):
        raise Refused(f"GitHub API: unexpected answer for the pull request of {sha[:12]}")
    query = urllib.parse.urlencode({"check_name": check, "filter": "latest"})
    answer = api("GET", f"/repos/{repo}/commits/{head}/check-runs?{query}")
    runs = _shaped(_shaped(answer, dict, "the check runs").get("check_runs"), list, "check runs")
    ours = [run for run in runs if _app(run) == ACTIONS_APP]
    conclusions = sorted({str(run.get("conclusion") or run.get("status", "?")) for run in ours})
    if conclusions != ["success"]:
        others = sorted({_app(run) or "?" for run in runs} - {ACTIONS_APP})
        found = ", ".join(conclusions) or "it never ran"
        if others and not ours:
            found += f" in GitHub Actions; reported only by {', '.join(others)}"
        raise Refused(
            f"not registering: the '{check}' check of PR #{number} "
            f"(head {head[:12]}) did not succeed ({found})"
        )
    return {"pr_number": str(number), "pr_head_sha": head}


def _app(run: object) -> str | None:
    """The slug of the app that reported a check run."""
    app = run.get("app") if isinstance(run, dict) else None
    return app.get("slug") if isinstance(app, dict) else None


def _shaped(value: object, kind: type, what: str) -> object:
    """``value`` when it is a ``kind`` (the shape GitHub documents), else one line saying so."""
    if not isinstance(value, kind):
        raise Refused(f"GitHub API: unexpected answer for {what} ({type(value).__name__})")
    return value


def _found(method: str, url: str) -> object:
    """The answer, or None when the API says 404 (the ref or file does not exist yet)."""
    try:
        return api(method, url)
    except Refused as refused:
        if refused.status == 404:
            return None
        raise


def monitor_issue(repo: str, body: str) -> str:
    """Open the monitoring issue, or update the open one: one issue however many runs."""
    body = f"{MONITOR_MARKER}\n{body}"
    page = 1
    while issues := api("GET", f"/repos/{repo}/issues?state=open&per_page=100&page={page}"):
        for issue in issues:
            mine = (issue.get("body") or "").startswith(MONITOR_MARKER)
            if mine and "pull_request" not in issue:
                api("PATCH", f"/repos/{repo}/issues/{issue['number']}", {"body": body})
                return f"updated issue #{issue['number']}"
        page += 1
    created = api("POST", f"/repos/{repo}/issues", {"title": MONITOR_TITLE, "body": body})
    return f"created issue #{created['number']}"


def retrain_pr(repo: str, path: str, content: bytes, body: str, workflow: str, base: str) -> str:
    """Commit ``content`` to ``path`` on the retraining branch (from ``base`` when no pull
    request is open), open the pull request if none is, and dispatch ``workflow`` on the branch
    so its model check runs (events of the workflow token start no workflow by themselves)."""
    owner = repo.split("/")[0]
    branch = RETRAIN_BRANCH
    head = urllib.parse.quote(f"{owner}:{branch}")
    open_prs = api("GET", f"/repos/{repo}/pulls?state=open&head={head}") or []
    if not open_prs:
        base_sha = api("GET", f"/repos/{repo}/git/ref/heads/{base}")["object"]["sha"]
        if _found("GET", f"/repos/{repo}/git/ref/heads/{branch}") is None:
            ref = {"ref": f"refs/heads/{branch}", "sha": base_sha}
            api("POST", f"/repos/{repo}/git/refs", ref)
        else:  # a branch left from a closed pull request starts again from base
            api("PATCH", f"/repos/{repo}/git/refs/heads/{branch}", {"sha": base_sha, "force": True})
    existing = _found("GET", f"/repos/{repo}/contents/{path}?ref={urllib.parse.quote(branch)}")
    change = {
        "message": f"Retrain: {path} with the labelled monitoring batch",
        "content": base64.b64encode(content).decode(),
        "branch": branch,
    }
    if existing:
        change["sha"] = existing["sha"]
    api("PUT", f"/repos/{repo}/contents/{path}", change)
    if open_prs:
        done = f"updated pull request #{open_prs[0]['number']}"
    else:
        title = "Retrain on the labelled monitoring batch"
        pull = {"title": title, "head": branch, "base": base, "body": body}
        done = f"opened pull request #{api('POST', f'/repos/{repo}/pulls', pull)['number']}"
    api("POST", f"/repos/{repo}/actions/workflows/{workflow}/dispatches", {"ref": branch})
    return f"{done} ({branch}); dispatched {workflow} on it"


def draft_release(repo: str, tag: str, notes: str, assets: list[Path]) -> dict[str, str]:
    """Create the draft release for ``tag`` and attach ``assets``."""
    body = {"tag_name": tag, "name": tag, "body": notes, "draft": True}
    release = api("POST", f"/repos/{repo}/releases", body)
    upload_url = release["upload_url"].split("{")[0]
    for asset in assets:
        api("POST", f"{upload_url}?name={asset.name}", data=asset.read_bytes())
    return {"release_id": str(release["id"])}


def _outputs(values: dict[str, str]) -> str:
    """Write ``values`` to GITHUB_OUTPUT (when set); return them as text."""
    text = "".join(f"{key}={value}\n" for key, value in values.items())
    if path := os.environ.get("GITHUB_OUTPUT"):
        with open(path, "a", encoding="utf-8") as out:
            out.write(text)
    return text.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    comment = commands.add_parser("comment", help="create or update the sticky report comment")
    comment.add_argument("--pr", type=int, required=True)
    comment.add_argument("--body-file", type=Path, required=True)
    gated = commands.add_parser("gated-pr", help="the merged, checked pull request of a commit")
    gated.add_argument("--sha", required=True)
    gated.add_argument("--check", required=True, help="name of the check that must succeed")
    draft = commands.add_parser("draft", help="create a draft release with assets")
    draft.add_argument("--tag", required=True)
    draft.add_argument("--notes-file", type=Path, required=True)
    draft.add_argument("--asset", type=Path, action="append", default=[])
    for name, text in (("publish", "publish a draft release"), ("discard", "delete a draft")):
        commands.add_parser(name, help=text).add_argument("--release-id", required=True)
    issue = commands.add_parser("monitor-issue", help="open or update the monitoring issue")
    issue.add_argument("--body-file", type=Path, required=True)
    retrain = commands.add_parser("retrain-pr", help="open or update the retraining PR")
    retrain.add_argument("--path", required=True, help="the file's path in the repository")
    retrain.add_argument("--file", type=Path, required=True, help="its new content")
    retrain.add_argument("--body-file", type=Path, required=True)
    retrain.add_argument("--workflow", required=True, help="workflow to dispatch on the branch")
    retrain.add_argument("--base", default="main")
    args = parser.parse_args(argv)

    repo = os.environ["GITHUB_REPOSITORY"]
    try:
        if args.command == "comment":
            body = args.body_file.read_text() if args.body_file.exists() else NO_REPORT
            print(upsert_comment(repo, args.pr, body))
        elif args.command == "gated-pr":
            print(_outputs(gated_pr(repo, args.sha, args.check)))
        elif args.command == "draft":
            notes = args.notes_file.read_text()
            print(_outputs(draft_release(repo, args.tag, notes, args.asset)))
        elif args.command == "monitor-issue":
            print(monitor_issue(repo, args.body_file.read_text()))
        elif args.command == "retrain-pr":
            content, body = args.file.read_bytes(), args.body_file.read_text()
            print(retrain_pr(repo, args.path, content, body, args.workflow, args.base))
        elif args.command == "publish":
            api("PATCH", f"/repos/{repo}/releases/{args.release_id}", {"draft": False})
            print(f"published release {args.release_id}")
        else:
            api("DELETE", f"/repos/{repo}/releases/{args.release_id}")
            print(f"deleted draft release {args.release_id}")
    except Refused as refused:
        print(f"::error title={args.command}::{refused}")
        return 1
    except (KeyError, TypeError, AttributeError, IndexError) as error:
        # An answer of another shape than GitHub documents (or GITHUB_TOKEN unset): one line.
        print(f"::error title={args.command}::unexpected answer or environment: {error!r}")
        return 1
    except OSError as error:
        print(f"::error title={args.command}::{error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
