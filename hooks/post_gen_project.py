"""Prune the optional parts the answers did not choose, record where the project came from
(.cruft.json, for `make update`), lock the dependencies (uv.lock, when uv and the package index
answer in time), make it a git repository, then print the next steps.

cruft renders the template again to compute an update: there (its context has ``_commit``) the
hook only prunes, so the renders it compares hold neither a repository nor a .cruft.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

LICENSES_DIR = Path("licenses")
CRUFT_FILE = Path(".cruft.json")
# Files the user owns once the project exists: `make update` never patches them.
CRUFT_SKIP = ["config/schema.yaml", "data/raw"]
# Seconds `uv lock` may take (a few with a warm cache, under a minute cold); past them the render
# goes on without uv.lock and the next steps say `make lock`.
LOCK_TIMEOUT = 120


def _remove(*paths: str) -> None:
    for path in map(Path, paths):
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def remove_flake8_files() -> None:
    _remove(".flake8")


def remove_serving_files(module_name: str) -> None:
    _remove(f"src/{module_name}/serving.py", "tests/test_serving.py")


def remove_flow_files(module_name: str) -> None:
    _remove(f"src/{module_name}/flow.py", "tests/test_flow.py")


def remove_docker_files() -> None:
    _remove("Dockerfile", ".dockerignore", "docker-compose.yml", "docker", "tests/test_docker.py")


def remove_dvc_files(module_name: str) -> None:
    _remove(".dvc", ".dvcignore", f"src/{module_name}/stages/dvc.py", "tests/test_dvc.py")


def promote_license(license_name: str) -> None:
    """Keep the chosen license text as LICENSE; 'Not open source' keeps none."""
    chosen = LICENSES_DIR / license_name
    if chosen.exists():
        shutil.move(chosen, "LICENSE")
    shutil.rmtree(LICENSES_DIR)


def _git(*args: str, cwd: str | Path = ".") -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def template_source(answers: dict[str, str]) -> tuple[str, str] | None:
    """(URL or path cruft can clone, commit) of the template being rendered; None when it is
    not a git checkout (a zip, an exported copy)."""
    from cookiecutter.config import BUILTIN_ABBREVIATIONS
    from cookiecutter.repository import expand_abbreviations, is_repo_url

    template = answers.get("_template", "")
    if not template:
        return None
    repo_dir = Path(answers.get("_repo_dir", template)).expanduser()
    if not repo_dir.is_absolute():  # a local template named relative to where cookiecutter ran
        repo_dir = Path(os.environ.get("PWD", ".")) / repo_dir
    if shutil.which("git") is None or not repo_dir.is_dir():
        return None
    head = _git("rev-parse", "--verify", "--quiet", "HEAD", cwd=repo_dir)
    if head.returncode != 0:
        return None
    url = expand_abbreviations(template, BUILTIN_ABBREVIATIONS)
    return (url if is_repo_url(url) else str(repo_dir.resolve())), head.stdout.strip()


def write_cruft_file(answers: dict[str, str]) -> bool:
    """.cruft.json as `cruft create` writes it, so `cruft check` / `cruft update` work."""
    source = template_source(answers)
    if source is None:
        return False
    url, commit = source
    context = {key: value for key, value in answers.items() if not key.startswith("_")}
    state = {
        "template": url,
        "commit": commit,
        "checkout": answers.get("_checkout"),
        "context": {"cookiecutter": {**context, "_template": url, "_commit": commit}},
        "directory": None,
        "skip": CRUFT_SKIP,
    }
    CRUFT_FILE.write_text(json.dumps(state, indent=2) + "\n")
    return True


def lock_dependencies(timeout: float = LOCK_TIMEOUT) -> str | None:
    """uv.lock with every dependency of every extra; None when locked, else why not."""
    uv = shutil.which("uv")
    if uv is None:
        return "uv not found"
    try:
        done = subprocess.run(
            [uv, "lock", "--quiet"], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return f"uv lock took longer than {timeout:g} s"
    if done.returncode != 0:
        return next((line for line in done.stderr.splitlines() if line.strip()), "uv lock failed")
    return None


def init_git(answers: dict[str, str]) -> str:
    """A repository on main with everything committed; the line saying what happened."""
    if shutil.which("git") is None:
        return "git not found: no repository created (the pipeline registers only commits)"
    steps = [("init", "--quiet", "--initial-branch=main"), ("add", "--all")]
    for args in steps:
        if (done := _git(*args)).returncode != 0:
            return f"git {args[0]} failed ({done.stderr.strip()}): no repository created"
    identity = []
    if _git("config", "user.email").returncode != 0:  # no identity yet: the author's answers
        identity = ["-c", f"user.name={answers['author_name']}"]
        identity += ["-c", f"user.email={answers['author_email']}"]
    message = "Initial commit from cookiecutter-mlops-ci"
    done = _git(*identity, "commit", "--quiet", "--no-verify", "-m", message)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
        return f"git commit failed ({reason}): commit the files yourself"
    return "git repository on main with the first commit"


def next_steps(
    answers: dict[str, str], git_line: str | None, cruft: bool, unlocked: str | None = None
) -> str:
    """What to do next, for the options chosen; ``unlocked`` says why there is no uv.lock."""
    slug = answers["project_slug"]
    lines = [f"Created {slug}" + (f" ({git_line})." if git_line else "."), "Next steps:"]
    steps = [f"cd {slug}"]
    if unlocked is not None:
        steps.append(f"make lock         # uv.lock, then commit it (not locked now: {unlocked})")
    if git_line is None:
        steps.append("git init && git add -A && git commit -m 'Initial commit'   # see README")
    steps.append("make install      # virtual environment with the versions uv.lock pins")
    steps.append("make pipeline     # validate -> train -> gate -> register, on the sample")
    steps.append("make promote      # alias production on the version the pipeline registered")
    if answers["serving"] == "fastapi":
        steps.append("make serve        # http://127.0.0.1:8000/docs (needs a production model)")
    else:
        steps.append("make example-input && make predict INPUT=reports/example-input.csv")
    if answers["orchestration"] == "prefect":
        steps.append("make flow         # the same stages as a Prefect flow")
    if answers["docker"] == "y":
        steps.append("docker compose up -d   # MLflow server with auth (README: Tracking backends)")
    steps.append(".venv/bin/pre-commit install   # the linters before every commit (offline)")
    if answers["data_versioning"] == "dvc":
        steps.append("set the DVC remote (dvc remote add -d): README, 'Your own data'")
    steps.append(
        "push to GitHub, then set the secrets the README lists (MLflow URI and credentials)"
    )
    lines += [f"  {step}" for step in steps]
    if not cruft:
        lines.append("  (no .cruft.json: the template is not a git checkout; see `cruft link`)")
    lines.append("Template updates later: make update (cruft); `make help` lists every target.")
    return "\n".join(lines)


def main(answers: dict[str, str]) -> int:
    if answers["linting"] != "flake8+black+isort":
        remove_flake8_files()
    if answers["serving"] != "fastapi":
        remove_serving_files(answers["module_name"])
    if answers["docker"] != "y":
        remove_docker_files()
    if answers["orchestration"] != "prefect":
        remove_flow_files(answers["module_name"])
    if answers["data_versioning"] != "dvc":
        remove_dvc_files(answers["module_name"])
    promote_license(answers["open_source_license"])
    if "_commit" in answers:  # cruft rendering (create or update): cruft keeps its own state
        return 0
    cruft = write_cruft_file(answers)
    unlocked = lock_dependencies()  # before the first commit, so that it holds uv.lock
    git_line = init_git(answers) if answers.get("git_init", "y") == "y" else None
    print(next_steps(answers, git_line, cruft, unlocked))
    return 0


if __name__ == "__main__":
    # Rendered by cookiecutter: tojson escapes quotes, so the raw string always holds valid JSON.
    sys.exit(main(json.loads(r'{{ cookiecutter | tojson }}')))  # fmt: skip
