"""A local stand-in for the GitHub REST API that records every request the workflows make."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recorded:
    method: str
    path: str
    body: dict | None
    size: int


@dataclass
class GitHubStandIn:
    """Answers the calls of .github/scripts/github_api.py; ``requests`` holds them in order."""

    pr_for_commits: int = 42
    requests: list[Recorded] = field(default_factory=list)
    comments: dict[int, dict] = field(default_factory=dict)
    releases: list[dict] = field(default_factory=list)
    assets: list[tuple[str, int]] = field(default_factory=list)

    def __enter__(self) -> GitHubStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _reply(self, status: int, payload: object) -> None:
                data = json.dumps(payload).encode()
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
                self._reply(status, payload)

            do_GET = do_POST = do_PATCH = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def answer(self, method: str, path: str, body: dict | None, raw: bytes):
        path, _, query = path.partition("?")
        if m := re.fullmatch(r"/repos/[^/]+/[^/]+/issues/(\d+)/comments", path):
            issue = int(m.group(1))
            if method == "GET":
                page = int(dict(p.split("=") for p in query.split("&") if p).get("page", 1))
                found = [c for c in self.comments.values() if c["issue"] == issue]
                return 200, found if page == 1 else []
            comment = {"id": 1000 + len(self.comments), "issue": issue, "body": body["body"]}
            self.comments[comment["id"]] = comment
            return 201, comment
        if m := re.fullmatch(r"/repos/[^/]+/[^/]+/issues/comments/(\d+)", path):
            self.comments[int(m.group(1))]["body"] = body["body"]
            return 200, self.comments[int(m.group(1))]
        if re.fullmatch(r"/repos/[^/]+/[^/]+/commits/\w+/pulls", path):
            return 200, [{"number": self.pr_for_commits}]
        if m := re.fullmatch(r"/repos/([^/]+/[^/]+)/releases", path):
            release = {"id": len(self.releases) + 1, **body}
            release["upload_url"] = (
                f"{self.url}/uploads/repos/{m.group(1)}/releases/{release['id']}/assets{{?name,label}}"
            )
            self.releases.append(release)
            return 201, release
        if path.startswith("/uploads/"):
            self.assets.append((query.removeprefix("name="), len(raw)))
            return 201, {"name": query.removeprefix("name=")}
        return 404, {"message": f"stand-in does not know {method} {path}"}
