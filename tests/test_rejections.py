"""Bad answers given to the real cookiecutter command: non-zero exit, one clear line, no output."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import TEMPLATE_DIR, run, tool

# (answer on the command line, the line the hook must print)
REJECTIONS = [
    ("project_name= ", "project_name=' ' is not accepted: it must not be empty"),
    ("project_slug=My Project", "project_slug='My Project' is not accepted"),
    ("project_slug=-churn", "project_slug='-churn' is not accepted"),
    ("module_name=churn-model", "module_name='churn-model' is not accepted"),
    ("module_name=class", "module_name='class' is not accepted: it is a Python keyword"),
    ("module_name=json", "module_name='json' is not accepted: it shadows the standard library"),
    ("module_name=sklearn", "module_name='sklearn' is not accepted: it shadows a package"),
    ("author_name=", "author_name='' is not accepted: it must not be empty"),
    ("author_email=ada.example.org", "author_email='ada.example.org' is not accepted"),
    ("author_email=ada@example", "author_email='ada@example' is not accepted"),
    ("github_owner=ada_l", "github_owner='ada_l' is not accepted"),
    ("description=" + "x" * 201, "is not accepted: use one line of at most 200 characters"),
]


def _cookiecutter(tmp_path: Path, answer: str):
    out = tmp_path / "out"
    out.mkdir()
    result = run(
        [tool("cookiecutter"), "--no-input", "-o", str(out), str(TEMPLATE_DIR), answer],
        cwd=tmp_path,
    )
    return result, out


@pytest.mark.parametrize(("answer", "line"), REJECTIONS, ids=[a[:30] for a, _ in REJECTIONS])
def test_bad_answer_exits_nonzero_with_one_line_and_writes_nothing(
    tmp_path: Path, answer: str, line: str
) -> None:
    result, out = _cookiecutter(tmp_path, answer)

    assert result.returncode != 0
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("ERROR: ") and "=" in ln]
    assert len(errors) == 1, result.stderr
    assert line in errors[0]
    assert list(out.iterdir()) == []


def test_python_version_outside_the_choices_is_refused_by_cookiecutter(tmp_path: Path) -> None:
    # Choice answers are checked by cookiecutter itself, before any hook or directory.
    result, out = _cookiecutter(tmp_path, "python_version=3.8")

    assert result.returncode != 0
    assert "3.8 provided for choice variable python_version" in result.stderr
    assert list(out.iterdir()) == []


def test_good_answers_render(tmp_path: Path) -> None:
    result, out = _cookiecutter(tmp_path, "project_name=Churn Model")

    assert result.returncode == 0, result.stderr
    assert [p.name for p in out.iterdir()] == ["churn-model"]
    assert "make install" in result.stdout


def test_interactive_prompts_accept_defaults(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(
        [tool("cookiecutter"), "-o", str(out), str(TEMPLATE_DIR)], cwd=tmp_path, input="\n" * 20
    )

    assert result.returncode == 0, result.stderr
    assert "Project name (human readable)" in result.stdout
    assert "How the training data reaches CI" in result.stdout
    assert (out / "my-ml-project" / "src" / "my_ml_project" / "__init__.py").exists()
