"""Run a generated project's workflows offline with act: jobs on the host, stand-in actions."""

from __future__ import annotations

import functools
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.helpers import TEMPLATE_DIR, run, tool, tools_env

STAND_INS = {
    "astral-sh/setup-uv": "setup-uv",
    "actions/upload-artifact": "upload-artifact",
    "actions/download-artifact": "download-artifact",
}
# GitHub's runners write bytecode on import (this machine sets PYTHONDONTWRITEBYTECODE; empty
# means unset). act's jobs get it; the benchmark's direct runs of the same targets too.
AS_ON_RUNNERS = {"PYTHONDONTWRITEBYTECODE": ""}
USES = re.compile(r"uses: ([\w-]+/[\w-]+)@([0-9a-f]{40})")


def git(project: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def init_repository(project: Path, owner: str = "your-github-user") -> str:
    """Make the baked project a git repository on main with a GitHub origin; return HEAD."""
    git(project, "init", "-q", "-b", "main")
    git(project, "config", "user.email", "ci@example.com")
    git(project, "config", "user.name", "CI")
    git(project, "remote", "add", "origin", f"https://github.com/{owner}/{project.name}.git")
    return commit_all(project, "Initial commit")


def commit_all(project: Path, message: str) -> str:
    git(project, "add", "-A")
    git(project, "commit", "-q", "--allow-empty", "-m", message)
    return git(project, "rev-parse", "HEAD")


def pr_payload(project: Path, number: int) -> dict:
    """A pull_request event for the project's HEAD, from a branch of the same repository."""
    repo = f"your-github-user/{project.name}"
    sha = git(project, "rev-parse", "HEAD")
    side = {"ref": "feature", "sha": sha, "repo": {"full_name": repo}}
    return {
        "number": number,
        "pull_request": {"number": number, "head": side, "base": {**side, "ref": "main"}},
        "repository": {"full_name": repo},
    }


@functools.cache
def _uv_cache_dir() -> str:
    """uv's shared package cache (asked once per session)."""
    return run([tool("uv"), "cache", "dir"], cwd=TEMPLATE_DIR).stdout.strip()


@dataclass
class ActRun:
    returncode: int
    events: list[dict]
    raw: str

    @property
    def jobs(self) -> dict[str, str]:
        """Job id -> result ('success' / 'failure')."""
        return {e["jobID"]: e["jobResult"] for e in self.events if "jobResult" in e}

    def commands(self, name: str) -> list[str]:
        """Arguments of every workflow command ``name`` (notice, error, summary content, ...)."""
        key = "content" if name == "summary" else "arg"
        return [e.get(key, "") for e in self.events if e.get("command") == name]

    def log(self) -> str:
        return "".join(str(e.get("msg", "")) for e in self.events) + self.raw


def act(
    project: Path,
    event: str,
    workflow: str,
    work: Path,
    *,
    payload: dict | None = None,
    secrets: dict[str, str] | None = None,
    variables: dict[str, str] | None = None,
    api_url: str = "http://127.0.0.1:9",
) -> ActRun:
    """Run ``workflow`` for ``event`` in a fresh act work folder under ``work``, with
    repository ``secrets`` and ``variables`` (the `vars` context)."""
    work = work.resolve()  # act runs in the project folder: relative paths would point there
    work.mkdir(parents=True, exist_ok=True)
    text = (project / ".github" / "workflows" / workflow).read_text()
    args = [
        tool("act"),
        event,
        "-W",
        f".github/workflows/{workflow}",
        "--json",
        "-P",
        "ubuntu-latest=-self-hosted",
        "--matrix",
        "python-version:3.11",
        "--cache-server-addr",
        "127.0.0.1",
        "--artifact-server-addr",
        "127.0.0.1",
        "--env",
        f"ACT_ARTIFACTS={work / 'artifacts'}",
        "--env",
        f"GITHUB_API_URL={api_url}",
    ]
    for repo, sha in sorted(set(USES.findall(text))):
        if repo in STAND_INS:
            stand_in = TEMPLATE_DIR / "tests" / "actions" / STAND_INS[repo]
            args += ["--local-repository", f"{repo}@{sha}={stand_in}"]
    # GitHub gives every job a token (`github.token`); act takes it from the GITHUB_TOKEN secret.
    for name, value in ({"GITHUB_TOKEN": "token-for-the-stand-in"} | (secrets or {})).items():
        args += ["-s", f"{name}={value}"]
    for name, value in (variables or {}).items():
        args += ["--var", f"{name}={value}"]
    if payload is not None:
        event_file = work / f"{event}.json"
        event_file.write_text(json.dumps(payload))
        args += ["-e", str(event_file)]
    # A fresh XDG cache gives every run its own act work folder (and so its own .venv); uv keeps
    # its shared package cache, as setup-uv's cache does on GitHub.
    env = {
        **tools_env(),
        "XDG_CACHE_HOME": str(work / "xdg"),
        "UV_CACHE_DIR": _uv_cache_dir(),
        **AS_ON_RUNNERS,
    }
    result = run(args, cwd=project, env=env, timeout=1800)
    events = []
    for line in result.stdout.splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return ActRun(result.returncode, events, result.stderr)


def release(project: Path, tag: str, work: Path, **options) -> ActRun:
    """release.yml for a push of ``tag`` (already made in ``project``): act's other options as
    ``act`` takes them (secrets, variables, api_url)."""
    return act(project, "push", "release.yml", work, payload={"ref": f"refs/tags/{tag}"}, **options)


def _glob(pattern: str) -> re.Pattern[str]:
    """GitHub's filter pattern as a regex: `*` stays in a folder, `**` crosses them."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def triggers(project: Path, workflow: str, event: str, changed: list[str]) -> bool:
    """Whether a ``event`` touching ``changed`` files starts ``workflow`` (its `paths` filter).

    act runs whatever workflow it is given, so the filter is evaluated here, the way GitHub does:
    a file counts when the last pattern it matches is not a `!` pattern.
    """
    raw = yaml.safe_load((project / ".github" / "workflows" / workflow).read_text())
    on = raw.get("on", raw.get(True))  # YAML 1.1 reads the key `on` as the boolean true
    patterns = (on[event] or {}).get("paths")
    if patterns is None:
        return True
    for name in changed:
        included = False
        for pattern in patterns:
            if _glob(pattern.removeprefix("!")).match(name):
                included = not pattern.startswith("!")
        if included:
            return True
    return False
