"""GitHub REST calls the workflows make: sticky PR comment, release with asset, PR of a commit.

Standard library only, so a job can run it without installing the project. It honours
GITHUB_API_URL (set by Actions; tests point it at a local stand-in) and GITHUB_TOKEN.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from pathlib import Path

MARKER = "<!-- model-report -->"
NO_REPORT = (
    "❌ The model pipeline stopped before the gate (data validation or training failed): "
    "see the workflow run for the error."
)


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
    with urllib.request.urlopen(request, timeout=60) as response:
        payload = response.read()
    return json.loads(payload) if payload else None


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


def publish_release(repo: str, tag: str, notes: str, assets: list[Path]) -> str:
    """Create the release for ``tag`` and attach ``assets``."""
    release = api("POST", f"/repos/{repo}/releases", {"tag_name": tag, "name": tag, "body": notes})
    upload_url = release["upload_url"].split("{")[0]
    for asset in assets:
        api("POST", f"{upload_url}?name={asset.name}", data=asset.read_bytes())
    return f"published release {tag} ({len(assets)} asset(s))"


def pr_for_commit(repo: str, sha: str) -> str:
    """Number of the pull request that brought ``sha`` (empty when pushed directly)."""
    pulls = api("GET", f"/repos/{repo}/commits/{sha}/pulls")
    return str(pulls[0]["number"]) if pulls else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    comment = commands.add_parser("comment", help="create or update the sticky report comment")
    comment.add_argument("--pr", type=int, required=True)
    comment.add_argument("--body-file", type=Path, required=True)
    release = commands.add_parser("release", help="publish a release with assets")
    release.add_argument("--tag", required=True)
    release.add_argument("--notes-file", type=Path, required=True)
    release.add_argument("--asset", type=Path, action="append", default=[])
    pulls = commands.add_parser("pr-for-commit", help="print the PR number of a commit")
    pulls.add_argument("--sha", required=True)
    args = parser.parse_args(argv)

    repo = os.environ["GITHUB_REPOSITORY"]
    if args.command == "comment":
        body = args.body_file.read_text() if args.body_file.exists() else NO_REPORT
        print(upsert_comment(repo, args.pr, body))
    elif args.command == "release":
        print(publish_release(repo, args.tag, args.notes_file.read_text(), args.asset))
    else:
        print(pr_for_commit(repo, args.sha))
    return 0


if __name__ == "__main__":
    sys.exit(main())
