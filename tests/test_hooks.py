"""Unit tests of the hook helpers: each answer rule, and each pruning function."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hooks import post_gen_project as post
from hooks import pre_gen_project as pre
from tests.act import git
from tests.helpers import TEMPLATE_DIR, bake

GOOD = {
    "project_name": "Churn Model",
    "project_slug": "churn-model",
    "module_name": "churn_model",
    "description": "Predict churn.",
    "author_name": "Ada Lovelace",
    "author_email": "ada@example.org",
    "github_owner": "ada-l",
    "python_version": "3.11",
    "task": "classification",
    "data_versioning": "dvc",
    "linting": "ruff",
    "serving": "none",
    "docker": "n",
    "orchestration": "none",
    "open_source_license": "MIT",
    "git_init": "y",
}

# (prompt, bad value, words the one-line message must contain)
BAD_ANSWERS = [
    ("project_name", "", "must not be empty"),
    ("project_name", "two\nlines", "one line"),
    ("project_slug", "My Project", "lowercase letters, digits and single hyphens"),
    ("project_slug", "-churn", "starting with a letter"),
    ("project_slug", "churn--model", "single hyphens"),
    ("project_slug", "1churn", "starting with a letter"),
    ("module_name", "churn-model", "Python identifier"),
    ("module_name", "m" * 41, "at most 40 characters"),
    ("project_slug", "s" * 41, "at most 40 lowercase letters"),
    ("module_name", "class", "keyword"),
    ("module_name", "match", "keyword"),
    ("module_name", "json", "standard library"),
    ("module_name", "mlflow", "shadows a package the project uses"),
    ("description", "x" * 201, "at most 200 characters"),
    ("author_name", "  ", "must not be empty"),
    ("author_email", "ada.example.org", "name@example.com"),
    ("author_email", "ada@localhost", "name@example.com"),
    ("github_owner", "-ada", "GitHub user or organisation"),
    ("github_owner", "a" * 40, "at most 39 characters"),
    ("python_version", "3.8", "3.11, 3.12, 3.13, 3.14"),
    ("task", "clustering", "classification, regression"),
    ("data_versioning", "lfs", "dvc, git"),
    ("linting", "pylint", "flake8+black+isort, ruff"),
    ("serving", "flask", "none, fastapi"),
    ("docker", "yes", "n, y"),
    ("orchestration", "airflow", "none, prefect"),
    ("open_source_license", "GPL", "MIT, BSD-3-Clause"),
]


def test_good_answers_pass() -> None:
    assert pre.main(dict(GOOD)) == 0


@pytest.mark.parametrize(
    ("prompt", "value", "words"),
    BAD_ANSWERS,
    ids=[f"{prompt}={value[:12]!r}" for prompt, value, _ in BAD_ANSWERS],
)
def test_bad_answer_is_rejected_with_one_line(prompt: str, value: str, words: str) -> None:
    with pytest.raises(pre.AnswerError) as error:
        pre.validate_answers({**GOOD, prompt: value})

    message = str(error.value)
    assert message.startswith(f"{prompt}=")
    assert words in message
    assert "\n" not in message


def test_main_prints_one_error_line_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert pre.main({**GOOD, "module_name": "json"}) == 1

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("ERROR: module_name='json' is not accepted")


@pytest.fixture
def baked_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A minimal stand-in for a rendered project, as the working directory."""
    for name in [
        ".flake8",
        "Dockerfile",
        ".dockerignore",
        "docker-compose.yml",
        "docker/mlflow/Dockerfile",
        "tests/test_docker.py",
        "tests/test_serving.py",
        "src/churn_model/serving.py",
        "src/churn_model/flow.py",
        "tests/test_flow.py",
        "src/churn_model/cli.py",
        "src/churn_model/stages/dvc.py",
        "src/churn_model/stages/schema.py",
        "tests/test_dvc.py",
        ".dvc/config",
        ".dvc/.gitignore",
        ".dvcignore",
        "licenses/MIT",
        "licenses/Apache-2.0",
        "licenses/BSD-3-Clause",
    ]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_remove_flake8_files(baked_tree: Path) -> None:
    post.remove_flake8_files()
    assert not (baked_tree / ".flake8").exists()


def test_remove_flow_files(baked_tree: Path) -> None:
    post.remove_flow_files("churn_model")
    assert not (baked_tree / "src/churn_model/flow.py").exists()
    assert not (baked_tree / "tests/test_flow.py").exists()
    assert (baked_tree / "src/churn_model/cli.py").exists()


def test_remove_serving_files(baked_tree: Path) -> None:
    post.remove_serving_files("churn_model")
    assert not (baked_tree / "src/churn_model/serving.py").exists()
    assert not (baked_tree / "tests/test_serving.py").exists()
    assert (baked_tree / "src/churn_model/cli.py").exists()


def test_remove_docker_files(baked_tree: Path) -> None:
    post.remove_docker_files()
    for name in [
        "Dockerfile",
        ".dockerignore",
        "docker-compose.yml",
        "docker",
        "tests/test_docker.py",
    ]:
        assert not (baked_tree / name).exists(), name


def test_remove_dvc_files(baked_tree: Path) -> None:
    post.remove_dvc_files("churn_model")
    for name in [".dvc", ".dvcignore", "src/churn_model/stages/dvc.py", "tests/test_dvc.py"]:
        assert not (baked_tree / name).exists(), name
    assert (baked_tree / "src/churn_model/stages/schema.py").exists()


@pytest.mark.parametrize("license_name", ["MIT", "Apache-2.0", "BSD-3-Clause"])
def test_promote_license_keeps_only_the_chosen_text(baked_tree: Path, license_name: str) -> None:
    post.promote_license(license_name)
    assert (baked_tree / "LICENSE").read_text() == f"licenses/{license_name}"
    assert not (baked_tree / "licenses").exists()


def test_not_open_source_keeps_no_license(baked_tree: Path) -> None:
    post.promote_license("Not open source")
    assert not (baked_tree / "LICENSE").exists()
    assert not (baked_tree / "licenses").exists()


def _answers(**changes: str) -> dict[str, str]:
    return {**GOOD, "data_versioning": "git", **changes}


def test_post_gen_main_prunes_and_prints_next_steps(
    baked_tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert post.main(_answers(git_init="n")) == 0

    assert not (baked_tree / ".flake8").exists()
    assert not (baked_tree / "Dockerfile").exists()
    assert not (baked_tree / ".dvc").exists()
    assert (baked_tree / "LICENSE").exists()
    assert not (baked_tree / ".git").exists()
    out = capsys.readouterr().out
    assert "cd churn-model" in out
    assert "git init && git add -A && git commit" in out  # the pipeline registers commits
    assert "make install" in out


def test_post_gen_commits_every_file_as_the_author_when_git_has_no_identity(
    baked_tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOME", str(baked_tree.parent / "home"))  # no ~/.gitconfig
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)

    assert post.main(_answers()) == 0

    assert git(baked_tree, "branch", "--show-current") == "main"
    assert git(baked_tree, "rev-list", "--count", "HEAD") == "1"
    assert git(baked_tree, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(baked_tree, "log", "-1", "--format=%an <%ae>") == "Ada Lovelace <ada@example.org>"
    assert "git repository on main with the first commit" in capsys.readouterr().out


def test_a_failing_git_commit_keeps_the_project_and_says_so(
    baked_tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Signing demanded with a gpg program that does not exist.
    monkeypatch.setenv("GIT_CONFIG_COUNT", "2")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "commit.gpgsign")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "true")
    monkeypatch.setenv("GIT_CONFIG_KEY_1", "gpg.program")
    monkeypatch.setenv("GIT_CONFIG_VALUE_1", str(baked_tree / "no-such-gpg"))

    assert post.main(_answers()) == 0

    out = capsys.readouterr().out
    assert "git commit failed (" in out, out
    assert "commit the files yourself" in out
    assert (baked_tree / "src/churn_model/cli.py").exists()


@pytest.mark.parametrize(
    ("changes", "expected", "absent"),
    [
        ({"serving": "fastapi"}, ["make serve"], ["make flow", "docker compose", "DVC remote"]),
        ({"docker": "y"}, ["docker compose up"], ["make serve"]),
        ({"orchestration": "prefect"}, ["make flow"], ["docker compose"]),
        ({"data_versioning": "dvc"}, ["DVC remote"], ["make flow"]),
        ({}, ["make example-input", "make predict"], ["make serve", "make flow"]),
    ],
)
def test_next_steps_follow_the_options(
    changes: dict[str, str], expected: list[str], absent: list[str]
) -> None:
    text = post.next_steps(_answers(**changes), "git repository on main", cruft=True)
    for words in ["make pipeline", "make promote", "pre-commit install", *expected]:
        assert words in text, (words, text)
    for words in absent:
        assert words not in text, (words, text)


def test_under_cruft_the_hook_only_prunes(
    baked_tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # cruft renders the template again to compute an update: no repository, no state, no output.
    assert post.main(_answers(_commit="0" * 40, _template="https://example.org/t.git")) == 0

    assert not (baked_tree / ".git").exists()
    assert not (baked_tree / ".cruft.json").exists()
    assert not (baked_tree / ".flake8").exists()
    assert capsys.readouterr().out == ""


def test_a_render_records_its_template_and_commit_for_cruft(tmp_path: Path) -> None:
    project = bake(tmp_path, {"project_name": "churn-model", "serving": "fastapi"})

    state = json.loads((project / ".cruft.json").read_text())
    assert state["template"] == str(TEMPLATE_DIR)
    assert state["commit"] == git(TEMPLATE_DIR, "rev-parse", "HEAD")
    answers = state["context"]["cookiecutter"]
    assert answers["serving"] == "fastapi"
    assert answers["_commit"] == state["commit"]
    assert "config/schema.yaml" in state["skip"]
    assert git(project, "ls-files", ".cruft.json") == ".cruft.json"  # in the first commit
