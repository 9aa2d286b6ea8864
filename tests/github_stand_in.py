"""A local stand-in for the GitHub REST API that records every request the workflows make.

It answers per commit: ``merge(sha, number, head)`` makes ``sha`` the merge of pull request
``number`` whose head commit is ``head``; ``check(head, conclusion)`` records the model check's
conclusion on that head. ``fail[pattern] = (status, message)`` makes every request whose
"METHOD /path" matches the regex ``pattern`` fail (5xx, 403 rate limit, ...);
``answers[pattern] = (status, payload)`` answers them with ``payload`` instead (a wrong shape);
``garble[pattern] = (status, payload)`` does the work, then answers that instead (a lost answer).
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

MODEL_CHECK = "Validate, train and gate"


@dataclass
class Recorded:
    method: str
    path: str
    body: dict | None
    size: int


class OnLoopback:
    """A test's HTTP server on 127.0.0.1: ``serve(Handler)`` in ``__enter__``, ``url``, stopped
    on exit."""

    def serve(self, handler: type[BaseHTTPRequestHandler]):
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"


@dataclass
class GitHubStandIn(OnLoopback):
    """Answers the calls of .github/scripts/github_api.py; ``requests`` holds them in order."""

    pulls: dict[str, list[dict]] = field(default_factory=dict)
    check_runs: dict[str, list[dict]] = field(default_factory=dict)
    fail: dict[str, tuple[int, str]] = field(default_factory=dict)
    answers: dict[str, tuple[int, object]] = field(default_factory=dict)
    garble: dict[str, tuple[int, object]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    comments: dict[int, dict] = field(default_factory=dict)
    releases: dict[int, dict] = field(default_factory=dict)
    assets: list[tuple[str, int]] = field(default_factory=list)
    issues: dict[int, dict] = field(default_factory=dict)
    pull_requests: dict[int, dict] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=lambda: {"main": "0" * 40})  # branch -> sha
    commits: list[dict] = field(default_factory=list)  # contents API writes: branch, path, text
    dispatches: list[tuple[str, str]] = field(default_factory=list)  # (workflow, ref)

    def merge(
        self, sha: str, number: int, head: str, merged: bool = True, merge_commit: str | None = None
    ) -> None:
        """``sha`` belongs to pull request ``number``; its merge commit is ``merge_commit``
        (default: ``sha`` itself, the merge; another sha: ``sha`` is only one of its commits)."""
        pr = {"number": number, "head": {"sha": head}, "base": {"ref": "main"}}
        pr |= {"merged_at": "2026-11-23T12:00:00Z" if merged else None}
        pr |= {"merge_commit_sha": (merge_commit or sha) if merged else None}
        self.pulls.setdefault(sha, []).append(pr)

    def check(
        self, head: str, conclusion: str, name: str = MODEL_CHECK, app: str = "github-actions"
    ) -> None:
        """A check run ``name`` on ``head``, reported by the app whose slug is ``app``."""
        run = {"name": name, "status": "completed", "conclusion": conclusion}
        run["app"] = {"id": 15368 if app == "github-actions" else 4242, "slug": app}
        self.check_runs.setdefault(head, []).append(run)

    def __enter__(self) -> GitHubStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _reply(self, status: int, payload: object) -> None:
                if isinstance(payload, bytes):  # an answer that is not JSON
                    data = payload
                else:
                    data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                is_json = self.headers.get("Content-Type") == "application/json"
                body = json.loads(raw) if is_json and raw else None
                stand_in.requests.append(Recorded(self.command, self.path, body, len(raw)))
                status, payload = stand_in.answer(self.command, self.path, body, raw)
                done = f"{self.command} {self.path.partition('?')[0]}"
                for pattern, garbled in stand_in.garble.items():
                    if re.fullmatch(pattern, done):
                        status, payload = garbled
                self._reply(status, payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        return self.serve(Handler)

    def answer(self, method: str, path: str, body: dict | None, raw: bytes):
        path, _, query = path.partition("?")
        for pattern, (status, message) in self.fail.items():
            if re.fullmatch(pattern, f"{method} {path}"):
                return status, {"message": message}
        for pattern, (status, payload) in self.answers.items():
            if re.fullmatch(pattern, f"{method} {path}"):
                return status, payload
        params = {key: values[0] for key, values in parse_qs(query).items()}
        if m := re.fullmatch(r"/repos/[^/]+/[^/]+/issues/(\d+)/comments", path):
            issue = int(m.group(1))
            if method == "GET":
                found = [c for c in self.comments.values() if c["issue"] == issue]
                return 200, found if int(params.get("page", 1)) == 1 else []
            comment = {"id": 1000 + len(self.comments), "issue": issue, "body": body["body"]}
            self.comments[comment["id"]] = comment
            return 201, comment
        if m := re.fullmatch(r"/repos/[^/]+/[^/]+/issues/comments/(\d+)", path):
            self.comments[int(m.group(1))]["body"] = body["body"]
            return 200, self.comments[int(m.group(1))]
        if re.fullmatch(r"/repos/[^/]+/[^/]+/issues", path):
            if method == "GET":
                found = [i for i in self.issues.values() if i["state"] == params.get("state")]
                return 200, found if int(params.get("page", 1)) == 1 else []
            number = 1 + len(self.issues) + len(self.pull_requests)
            self.issues[number] = {"number": number, "state": "open", **body}
            return 201, self.issues[number]
        if m := re.fullmatch(r"/repos/[^/]+/[^/]+/issues/(\d+)", path):
            self.issues[int(m.group(1))].update(body)
            return 200, self.issues[int(m.group(1))]
        if re.fullmatch(r"/repos/[^/]+/[^/]+/pulls", path):
            if method == "GET":
                branch = params.get("head", ":").split(":", 1)[1]
                found = [
                    pr
                    for pr in self.pull_requests.values()
                    if pr["state"] == params.get("state") and pr["head"] == branch
                ]
                return 200, found
            if body["head"] not in self.refs:
                return 422, {"message": f"Validation Failed: no branch {body['head']}"}
            number = 1 + len(self.issues) + len(self.pull_requests)
            self.pull_requests[number] = {"number": number, "state": "open", **body}
            return 201, self.pull_requests[number]
        if m := re.fullmatch(r"/repos/[^/]+/[^/]+/git/refs?/heads/(.+)", path):
            branch = m.group(1)
            if method == "PATCH":
                self.refs[branch] = body["sha"]
            if branch not in self.refs:
                return 404, {"message": "Not Found"}
            return 200, {"ref": f"refs/heads/{branch}", "object": {"sha": self.refs[branch]}}
        if re.fullmatch(r"/repos/[^/]+/[^/]+/git/refs", path):
            branch = body["ref"].removeprefix("refs/heads/")
            if branch in self.refs:
                return 422, {"message": "Reference already exists"}
            self.refs[branch] = body["sha"]
            return 201, {"ref": body["ref"], "object": {"sha": body["sha"]}}
        if m := re.fullmatch(r"/repos/[^/]+/[^/]+/contents/(.+)", path):
            branch = body["branch"] if body else params.get("ref", "main")
            if branch not in self.refs:
                return 404, {"message": "No commit found for the ref"}
            if method == "GET":  # every file of the repository exists on every branch
                return 200, {"path": m.group(1), "sha": f"blob-{branch}-{len(self.commits)}"}
            text = base64.b64decode(body["content"]).decode()
            self.commits.append({"branch": branch, "path": m.group(1), "text": text, **body})
            self.refs[branch] = f"{len(self.commits):040d}"
            return 200, {"commit": {"sha": self.refs[branch]}}
        if m := re.fullmatch(r"/repos/[^/]+/[^/]+/actions/workflows/([^/]+)/dispatches", path):
            self.dispatches.append((m.group(1), body["ref"]))
            return 204, None
        if m := re.fullmatch(r"/repos/[^/]+/[^/]+/commits/(\w+)/pulls", path):
            return 200, self.pulls.get(m.group(1), [])
        if m := re.fullmatch(r"/repos/[^/]+/[^/]+/commits/(\w+)/check-runs", path):
            runs = self.check_runs.get(m.group(1), [])
            runs = [r for r in runs if r["name"] == params.get("check_name", r["name"])]
            return 200, {"total_count": len(runs), "check_runs": runs}
        if m := re.fullmatch(r"/repos/([^/]+/[^/]+)/releases", path):
            if method == "GET":  # newest first
                return 200, [self.releases[i] for i in sorted(self.releases, reverse=True)]
            release = {"id": max(self.releases, default=0) + 1, **body}
            release["upload_url"] = (
                f"{self.url}/uploads/repos/{m.group(1)}/releases/{release['id']}/assets{{?name,label}}"
            )
            self.releases[release["id"]] = release
            return 201, release
        if m := re.fullmatch(r"/repos/[^/]+/[^/]+/releases/(\d+)", path):
            release_id = int(m.group(1))
            if release_id not in self.releases:
                return 404, {"message": "Not Found"}
            if method == "DELETE":
                del self.releases[release_id]
                return 204, None
            self.releases[release_id].update(body)
            return 200, self.releases[release_id]
        if path.startswith("/uploads/"):
            self.assets.append((params.get("name", ""), len(raw)))
            return 201, {"name": params.get("name")}
        return 404, {"message": f"stand-in does not know {method} {path}"}
