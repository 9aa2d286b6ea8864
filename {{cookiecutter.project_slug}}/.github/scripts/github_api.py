"""GitHub REST calls the workflows make: sticky PR comment, the gated pull request of a commit,
draft / publish / discard of a release, the monitoring issue and the retraining pull request.

Standard library only, so a job can run it without installing the project. It honours
GITHUB_API_URL (set by Actions; tests point it at a local stand-in), GITHUB_TOKEN and
GITHUB_OUTPUT. Every failure, the API's included, ends as one `::error::` line and exit 1.
"""

from __future__ import annotations

import argparse
import base64
import http.client
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
    path = url.partition("?")[0]
    if not url.startswith("http"):
        url = _api_url() + url
    headers = {
        "Accept": "application/vnd.github+json",
        "Authorization": f"Bearer {_environment('GITHUB_TOKEN')}",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    elif data is not None:
        headers["Content-Type"] = "application/octet-stream"
    try:
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = response.read()
    except urllib.error.HTTPError as error:
        message = f"GitHub API {method} {path}: {error.code} {_reason(error)}"
        raise Refused(message, error.code) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", None) or error.__class__.__name__
        raise Refused(f"GitHub API {method} {path}: unreachable ({reason})") from None
    except ValueError as error:  # a malformed URL in an answer (an upload URL)
        raise Refused(f"GitHub API {method} {path}: not a usable URL ({error})") from None
    try:
        return json.loads(payload) if payload else None
    except ValueError:
        raise Refused(f"GitHub API {method} {path}: the answer is not JSON") from None


def _environment(name: str) -> str:
    """The variable ``name``, else one line saying it is missing."""
    if not (value := os.environ.get(name)):
        raise Refused(f"{name} is not set: the workflow step passes it in env")
    return value


def _api_url() -> str:
    """GITHUB_API_URL (Actions sets it; default api.github.com), when it is an http(s) URL."""
    url = os.environ.get("GITHUB_API_URL") or "https://api.github.com"
    try:
        parts = urllib.parse.urlsplit(url)
        host, _ = parts.hostname, parts.port  # a port that is not a number raises here
    except ValueError:
        host = None
    if not host or not url.isprintable() or parts.scheme not in ("http", "https"):
        raise Refused(f"GITHUB_API_URL is not an http(s) URL: {_cut(url)}")
    return url.rstrip("/")


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
    for comment in _pages(f"/repos/{repo}/issues/{number}/comments", "the PR's comments"):
        if str(comment.get("body")).startswith(MARKER):
            comment_id = _field(comment, "id", int, "a comment")
            api("PATCH", f"/repos/{repo}/issues/comments/{comment_id}", {"body": body})
            return f"updated comment {comment_id}"
    created = api("POST", f"/repos/{repo}/issues/{number}/comments", {"body": body})
    return f"created comment {_field(created, 'id', int, 'the new comment')}"


def _pages(url: str, what: str, query: str = ""):
    """The items of a paginated list, page after page; a short page is the last one."""
    page = 1
    while True:
        answer = _shaped(api("GET", f"{url}?{query}per_page=100&page={page}"), list, what)
        for item in answer:
            yield _shaped(item, dict, what)
        if len(answer) < 100:
            return
        page += 1


def gated_pr(repo: str, sha: str, check: str) -> dict[str, str]:
    """The merged pull request whose merge commit is ``sha`` and whose head passed ``check``,
    a check run reported by GitHub Actions itself (any app may report a check of that name)."""
    answer, what = api("GET", f"/repos/{repo}/commits/{sha}/pulls"), "the commit's PRs"
    pulls = [_shaped(pr, dict, what) for pr in _shaped(answer, list, what)]
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


def _field(answer: object, key: str, kind: type, what: str) -> object:
    """``answer[key]`` when the answer is an object and that field a ``kind``, else one line."""
    value = answer.get(key) if isinstance(answer, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise Refused(f"GitHub API: unexpected answer for {what} (no {kind.__name__} '{key}')")
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
    for issue in _pages(f"/repos/{repo}/issues", "the open issues", "state=open&"):
        mine = str(issue.get("body")).startswith(MONITOR_MARKER)
        if mine and "pull_request" not in issue:
            number = _field(issue, "number", int, "an issue")
            api("PATCH", f"/repos/{repo}/issues/{number}", {"body": body})
            return f"updated issue #{number}"
    created = api("POST", f"/repos/{repo}/issues", {"title": MONITOR_TITLE, "body": body})
    return f"created issue #{_field(created, 'number', int, 'the new issue')}"


def retrain_pr(repo: str, path: str, content: bytes, body: str, workflow: str, base: str) -> str:
    """Commit ``content`` to ``path`` on the retraining branch (from ``base`` when no pull
    request is open), open the pull request if none is, and dispatch ``workflow`` on the branch
    so its model check runs (events of the workflow token start no workflow by themselves)."""
    owner = repo.split("/")[0]
    branch = RETRAIN_BRANCH
    head = urllib.parse.quote(f"{owner}:{branch}")
    answer = api("GET", f"/repos/{repo}/pulls?state=open&head={head}")
    open_prs = [_shaped(pr, dict, "the open PRs") for pr in _shaped(answer, list, "the open PRs")]
    if not open_prs:
        ref = _field(api("GET", f"/repos/{repo}/git/ref/heads/{base}"), "object", dict, base)
        base_sha = _field(ref, "sha", str, base)
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
        change["sha"] = _field(existing, "sha", str, path)
    api("PUT", f"/repos/{repo}/contents/{path}", change)
    if open_prs:
        done = f"updated pull request #{_field(open_prs[0], 'number', int, 'the open PR')}"
    else:
        title = "Retrain on the labelled monitoring batch"
        pull = {"title": title, "head": branch, "base": base, "body": body}
        created = api("POST", f"/repos/{repo}/pulls", pull)
        done = f"opened pull request #{_field(created, 'number', int, 'the new PR')}"
    api("POST", f"/repos/{repo}/actions/workflows/{workflow}/dispatches", {"ref": branch})
    return f"{done} ({branch}); dispatched {workflow} on it"


def draft_release(repo: str, tag: str, notes: str, assets: dict[str, bytes]) -> str:
    """Create the draft release for ``tag`` and attach ``assets`` (name: content).

    Its id goes to GITHUB_OUTPUT before the uploads, so the workflow's discard job deletes the
    draft even if this job dies mid-way; any failure after the draft exists deletes it here."""
    body = {"tag_name": tag, "name": tag, "body": notes, "draft": True}
    try:
        release = api("POST", f"/repos/{repo}/releases", body)
        release_id = _field(release, "id", int, "the new release")
    except Refused as refused:
        if refused.status is not None and refused.status < 500:
            raise  # refused: nothing was created
        # The answer was lost or garbled: the draft may exist all the same.
        raise Refused(f"{refused}; {_delete_lost_drafts(repo, tag, notes)}") from None
    try:
        _outputs({"release_id": str(release_id)})
        upload_url = _field(release, "upload_url", str, "the new release").split("{")[0]
        for name, content in assets.items():
            api("POST", f"{upload_url}?name={urllib.parse.quote(name)}", data=content)
    except (Exception, KeyboardInterrupt) as error:  # an API error, GITHUB_OUTPUT, Ctrl-C
        failure = str(error) or type(error).__name__
        raise Refused(f"{failure}; {_delete_draft(repo, release_id)}") from None
    return f"release_id={release_id}"


def _delete_draft(repo: str, release_id: int) -> str:
    """Delete the draft after a failed upload; say whether it is gone."""
    try:
        api("DELETE", f"/repos/{repo}/releases/{release_id}")
    except Refused as refused:
        return f"the draft release {release_id} is left ({refused}): the discard job deletes it"
    return f"deleted the draft release {release_id}"


def _delete_lost_drafts(repo: str, tag: str, notes: str) -> str:
    """Delete the drafts of ``tag`` with these notes: the one whose answer was lost (and any
    left by an earlier attempt of the same release); a draft made by hand has other notes."""
    try:
        answer = _shaped(api("GET", f"/repos/{repo}/releases?per_page=100"), list, "releases")
        ids = [
            release.get("id")
            for release in answer
            if isinstance(release, dict)
            and isinstance(release.get("id"), int)
            and release.get("draft") is True
            and (release.get("tag_name"), release.get("body")) == (tag, notes)
        ]
        for release_id in ids:
            api("DELETE", f"/repos/{repo}/releases/{release_id}")
    except Refused as refused:
        return f"a draft of {tag} may be left ({refused}): delete it on the Releases page"
    if not ids:
        return "no draft was created"
    return f"deleted the draft release {', '.join(map(str, ids))}"


def discard_release(repo: str, release_id: str) -> str:
    """Delete a draft release; one the draft job already deleted (404) is done too."""
    try:
        api("DELETE", f"/repos/{repo}/releases/{release_id}")
    except Refused as refused:
        if refused.status != 404:
            raise
        return f"draft release {release_id} was already deleted"
    return f"deleted draft release {release_id}"


def _outputs(values: dict[str, str]) -> str:
    """Write ``values`` to GITHUB_OUTPUT (when set); return them as text."""
    text = "".join(f"{key}={value}\n" for key, value in values.items())
    if path := os.environ.get("GITHUB_OUTPUT"):
        try:
            with open(path, "a", encoding="utf-8") as out:
                out.write(text)
        except OSError as error:
            raise Refused(f"cannot write GITHUB_OUTPUT {_cut(path)}: {error.strerror}") from None
    return text.strip()


def _read(path: Path) -> bytes:
    """The content of a file the step names, else one line saying why not."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise Refused(f"cannot read {_cut(str(path))}: {error.strerror}") from None


def _text(path: Path) -> str:
    """A UTF-8 text file the step names (a report, a model card)."""
    try:
        return _read(path).decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(f"{_cut(str(path))} is not UTF-8 text") from None


def _cut(text: str, limit: int = 200) -> str:
    """``text`` quoted on one line, a long one cut with a count of what was left out."""
    shown = repr(text[:limit])
    return shown if len(text) <= limit else f"{shown}... ({len(text) - limit} more characters)"


def _annotation(title: str, message: str) -> str:
    """One `::error::` workflow command whose message cannot end the line or start another."""
    for char, code in (("%", "%25"), ("\r", "%0D"), ("\n", "%0A")):
        message = message.replace(char, code)
    return f"::error title={title}::{message}"


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

    try:
        repo = _environment("GITHUB_REPOSITORY")
        _environment("GITHUB_TOKEN")  # both checked before any request is sent
        _api_url()
        if args.command == "comment":
            body = _text(args.body_file) if args.body_file.exists() else NO_REPORT
            print(upsert_comment(repo, args.pr, body))
        elif args.command == "gated-pr":
            print(_outputs(gated_pr(repo, args.sha, args.check)))
        elif args.command == "draft":
            # Every file read before the draft exists: a missing one creates nothing.
            notes, assets = _text(args.notes_file), {}
            for path in args.asset:
                if path.name in assets:
                    raise Refused(f"two assets named {_cut(path.name)}: a release holds one")
                assets[path.name] = _read(path)
            print(draft_release(repo, args.tag, notes, assets))
        elif args.command == "monitor-issue":
            print(monitor_issue(repo, _text(args.body_file)))
        elif args.command == "retrain-pr":
            content, body = _read(args.file), _text(args.body_file)
            print(retrain_pr(repo, args.path, content, body, args.workflow, args.base))
        elif not (args.release_id.isascii() and args.release_id.isdigit()):
            raise Refused(f"--release-id is not a release's number: {_cut(args.release_id)}")
        elif args.command == "publish":
            api("PATCH", f"/repos/{repo}/releases/{args.release_id}", {"draft": False})
            print(f"published release {args.release_id}")
        else:
            print(discard_release(repo, args.release_id))
    except Refused as refused:
        print(_annotation(args.command, str(refused)))
        return 1
    except (LookupError, TypeError, AttributeError, ValueError) as error:
        # An answer of another shape than GitHub documents, beyond the checks above.
        found = f"{type(error).__name__} {error}"[:200]
        print(_annotation(args.command, f"GitHub API: unexpected answer ({found})"))
        return 1
    except OSError as error:
        print(_annotation(args.command, str(error)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
