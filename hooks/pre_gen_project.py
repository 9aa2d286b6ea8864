"""Validate every answer before cookiecutter writes anything; exit 1 with one clear line."""

from __future__ import annotations

import json
import keyword
import re
import sys

SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13", "3.14")
CHOICES = {
    "task": ("classification", "regression"),
    "data_versioning": ("dvc", "git"),
    "linting": ("flake8+black+isort", "ruff"),
    "serving": ("none", "fastapi"),
    "orchestration": ("none", "prefect"),
    "docker": ("n", "y"),
    "open_source_license": ("MIT", "BSD-3-Clause", "Apache-2.0", "Not open source"),
    "git_init": ("y", "n"),
}
# Top-level import names the generated project depends on: a module of the same name would
# shadow them and break the project in confusing ways.
DEPENDENCY_MODULES = frozenset(
    {
        "mlflow",
        "sklearn",
        "pandas",
        "numpy",
        "joblib",
        "skops",
        "pandera",
        "dvc",
        "pydantic",
        "yaml",
        "matplotlib",
        "scipy",
        "pytest",
        "fastapi",
        "uvicorn",
        "prefect",
        "httpx",
        "starlette",
        "src",
        "tests",
    }
)
SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
MODULE_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
EMAIL_RE = re.compile(r"^[^@\s\"'<>,;]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
GITHUB_OWNER_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
MAX_TEXT = 200
# Keeps generated lines (imports, test ids) within the linters' 100 columns for any name.
MAX_NAME = 40


class AnswerError(ValueError):
    """An answer the template cannot use; the message is the one line shown to the user."""


def _fail(prompt: str, value: str, accepted: str) -> AnswerError:
    return AnswerError(f"{prompt}={value!r} is not accepted: {accepted}.")


def validate_text(prompt: str, value: str) -> None:
    """Free text must be a non-empty single line that fits in a pyproject field."""
    if not value.strip():
        raise _fail(prompt, value, "it must not be empty")
    if "\n" in value or "\r" in value or len(value) > MAX_TEXT:
        raise _fail(prompt, value, f"use one line of at most {MAX_TEXT} characters")


def validate_project_name(value: str) -> None:
    validate_text("project_name", value)


def validate_project_slug(value: str) -> None:
    if not SLUG_RE.match(value) or len(value) > MAX_NAME:
        raise _fail(
            "project_slug",
            value,
            f"use at most {MAX_NAME} lowercase letters, digits and single hyphens, starting with "
            "a letter (a valid distribution and directory name, e.g. 'my-ml-project')",
        )


def validate_module_name(value: str) -> None:
    accepted = f"use a lowercase Python identifier of at most {MAX_NAME} characters, e.g. 'my_ml'"
    if not MODULE_RE.match(value) or len(value) > MAX_NAME:
        raise _fail("module_name", value, accepted)
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        raise _fail("module_name", value, f"it is a Python keyword; {accepted}")
    if value in sys.stdlib_module_names:
        raise _fail("module_name", value, f"it shadows the standard library module; {accepted}")
    if value in DEPENDENCY_MODULES:
        raise _fail("module_name", value, f"it shadows a package the project uses; {accepted}")


def validate_author_email(value: str) -> None:
    if not EMAIL_RE.match(value):
        raise _fail("author_email", value, "use an address like 'name@example.com'")


def validate_github_owner(value: str) -> None:
    if not GITHUB_OWNER_RE.match(value):
        raise _fail(
            "github_owner",
            value,
            "use a GitHub user or organisation name: letters, digits and single hyphens, "
            "at most 39 characters, not starting or ending with a hyphen",
        )


def validate_python_version(value: str) -> None:
    if value not in SUPPORTED_PYTHONS:
        raise _fail("python_version", value, f"choose one of {', '.join(SUPPORTED_PYTHONS)}")


def validate_choice(prompt: str, value: str) -> None:
    if value not in CHOICES[prompt]:
        raise _fail(prompt, value, f"choose one of {', '.join(CHOICES[prompt])}")


def validate_answers(answers: dict[str, str]) -> None:
    """Raise AnswerError for the first answer the template cannot use."""
    validate_project_name(answers["project_name"])
    validate_project_slug(answers["project_slug"])
    validate_module_name(answers["module_name"])
    validate_text("description", answers["description"])
    validate_text("author_name", answers["author_name"])
    validate_author_email(answers["author_email"])
    validate_github_owner(answers["github_owner"])
    validate_python_version(answers["python_version"])
    for prompt in CHOICES:
        validate_choice(prompt, answers[prompt])


def main(answers: dict[str, str]) -> int:
    try:
        validate_answers(answers)
    except AnswerError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    # Rendered by cookiecutter: tojson escapes quotes, so the raw string always holds valid JSON.
    sys.exit(main(json.loads(r'{{ cookiecutter | tojson }}')))  # fmt: skip
