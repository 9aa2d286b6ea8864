"""Template improvements reach generated projects: `make update-check` (cruft check, also the
generated Template workflow) says when a project is behind; `make update` (cruft update) applies
the template's change and keeps the user's own edits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter
from filelock import FileLock

from tests.act import commit_all, git
from tests.helpers import TEMPLATE_DIR, run, tools_env

pytestmark = pytest.mark.slow

PROJECT_DIR = "{{cookiecutter.project_slug}}"
USER_NOTE = "Our team's note: ask #ml-platform before changing the gate.\n"


def _template_repository(dest: Path) -> Path:
    """The template as it is now (committed or not), as the first commit of its own repository."""
    listed = run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=TEMPLATE_DIR
    )
    for relative in filter(None, listed.stdout.split("\0")):
        source = TEMPLATE_DIR / relative
        if source.is_file():  # not a tracked file deleted in the working tree
            (dest / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / relative)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "config", "user.email", "template@example.com")
    git(dest, "config", "user.name", "Template")
    commit_all(dest, "Template v1")
    return dest


def _template_moves_on(template: Path) -> str:
    """A new Make target, a new file and a README line at the end; returns the new commit."""
    root = template / PROJECT_DIR
    with (root / "Makefile").open("a") as makefile:
        makefile.write("\nhello-update: ## A target the template added later\n\t@echo hello\n")
    (root / "docs").mkdir()
    (root / "docs" / "UPDATING.md").write_text("# Updating {{ cookiecutter.project_name }}\n")
    with (root / "README.md").open("a") as readme:
        readme.write("\nAdded by the template later.\n")
    return commit_all(template, "Template v2")


def test_make_update_applies_the_template_change_and_keeps_the_users_edits(
    tmp_path: Path, shared_venv: Path
) -> None:
    template = _template_repository(tmp_path / "template")
    project = Path(
        cookiecutter(
            str(template),
            no_input=True,
            extra_context={"project_name": "update-me", "data_versioning": "git"},
            output_dir=str(tmp_path / "out"),
        )
    )
    with FileLock(f"{shared_venv}.lock"):  # cruft comes with the dev extras
        installed = run(["make", "install", f"VENV={shared_venv}"], cwd=project, env=tools_env())
    assert installed.returncode == 0, installed.stdout + installed.stderr
    make = ["make", "--no-print-directory", f"VENV={shared_venv}"]
    assert run([*make, "update-check"], cwd=project).returncode == 0

    # The user's own edits, committed: a README note near the top, a config value.
    readme = project / "README.md"
    title, rest = readme.read_text().split("\n", 1)
    readme.write_text(f"{title}\n\n{USER_NOTE}{rest}")
    config = project / "config" / "pipeline.yaml"
    config.write_text(config.read_text().replace("seed: 42", "seed: 7"))
    commit_all(project, "Our edits")
    new_commit = _template_moves_on(template)

    behind = run([*make, "update-check"], cwd=project)
    assert behind.returncode != 0
    assert "out of date" in behind.stdout, behind.stdout + behind.stderr

    updated = run([*make, "update"], cwd=project)

    assert updated.returncode == 0, updated.stdout + updated.stderr
    makefile = (project / "Makefile").read_text()
    assert "hello-update: ## A target the template added later" in makefile
    assert (project / "docs" / "UPDATING.md").read_text() == "# Updating update-me\n"
    text = readme.read_text()
    assert USER_NOTE in text
    assert text.endswith("Added by the template later.\n")
    assert "seed: 7" in config.read_text()
    assert json.loads((project / ".cruft.json").read_text())["commit"] == new_commit
    assert not list(project.rglob("*.rej"))
    assert run([*make, "update-check"], cwd=project).returncode == 0
    # Applied to the working tree for review, not committed behind the user's back.
    assert git(project, "log", "-1", "--format=%s") == "Our edits"
    changed = git(project, "status", "--porcelain", "--untracked-files=all")
    for path in ["Makefile", "README.md", "docs/UPDATING.md", ".cruft.json"]:
        assert path in changed, changed
