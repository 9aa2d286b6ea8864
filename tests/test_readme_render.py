"""The generated README, rendered for every combination of the answers it depends on, parsed as
Markdown: headings on their own lines, tables in one piece, commands that work from a fresh
shell (dvc, in the project's virtual environment only, called by its path)."""

from __future__ import annotations

import functools
import itertools
import re

import pytest
from cookiecutter.environment import StrictEnvironment
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config
from markdown_it import MarkdownIt
from markdown_it.token import Token

from tests.helpers import TEMPLATE_DIR

README = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "README.md"
# Every answer the README's Jinja tests; python version and license only as the README tells
# them apart (the newest Python or not, a license or none).
ANSWERS = {
    "task": ["classification", "regression"],
    "data_versioning": ["dvc", "git"],
    "linting": ["flake8+black+isort", "ruff"],
    "serving": ["none", "fastapi"],
    "docker": ["n", "y"],
    "orchestration": ["none", "prefect"],
    "python_version": ["3.11", "3.14"],
    "open_source_license": ["MIT", "Not open source"],
}
COMBINATIONS = [
    dict(zip(ANSWERS, values, strict=True)) for values in itertools.product(*ANSWERS.values())
]


def _id(answers: dict[str, str]) -> str:
    return "-".join(value.replace(" ", "_").replace("+", "_") for value in answers.values())


def test_the_combinations_cover_every_answer_the_readme_tests() -> None:
    template = README.read_text()
    tested = set(re.findall(r"cookiecutter\.(\w+) *[!=]=", template))
    assert tested <= set(ANSWERS)


@functools.cache
def _template():
    env = StrictEnvironment(keep_trailing_newline=True)
    return env.from_string(README.read_text())


def render(answers: dict[str, str]) -> str:
    context = generate_context(
        context_file=TEMPLATE_DIR / "cookiecutter.json", extra_context=answers
    )
    cookiecutter = prompt_for_config(context, no_input=True)
    return _template().render(cookiecutter=cookiecutter)


@functools.cache
def _parsed(values: tuple[str, ...]) -> tuple[str, list[Token]]:
    """The README rendered with these answers, and its Markdown tokens (each test reads both)."""
    text = render(dict(zip(ANSWERS, values, strict=True)))
    return text, MarkdownIt("commonmark").enable("table").parse(text)


def _texts(tokens: list[Token]) -> list[Token]:
    """The plain-text pieces of the inline tokens (code spans and code blocks left out)."""
    return [
        child
        for token in tokens
        if token.type == "inline"
        for child in token.children or []
        if child.type == "text"
    ]


def _fenced(tokens: list[Token]) -> set[int]:
    """Source line numbers inside fenced code blocks."""
    return {line for token in tokens if token.type == "fence" for line in range(*token.map)}


@pytest.mark.parametrize("answers", COMBINATIONS, ids=_id)
def test_the_readme_renders_as_markdown(answers: dict[str, str]) -> None:
    text, tokens = _parsed(tuple(answers.values()))
    lines = text.splitlines()
    fenced = _fenced(tokens)

    # Headings: each on its own line, none glued to the text before it (".### Tuning").
    heading_lines = {token.map[0] for token in tokens if token.type == "heading_open"}
    for number, line in enumerate(lines):
        if number not in fenced and re.match(r"#{1,6} ", line):
            assert number in heading_lines, f"line {number + 1} is not a heading: {line}"
    glued = [t.content for t in _texts(tokens) if re.search(r"#{2,6} \w", t.content)]
    assert glued == [], glued
    assert [t.tag for t in tokens if t.type == "heading_open"].count("h1") == 1

    # Tables: every row belongs to a table, so no blank line split one.
    table_lines = {line for t in tokens if t.type == "table_open" for line in range(*t.map)}
    stray = [
        f"{number + 1}: {line}"
        for number, line in enumerate(lines)
        if line.startswith("|") and number not in table_lines and number not in fenced
    ]
    assert stray == [], stray


@pytest.mark.parametrize("answers", COMBINATIONS, ids=_id)
def test_readme_dvc_commands_run_from_a_fresh_shell(answers: dict[str, str]) -> None:
    text, tokens = _parsed(tuple(answers.values()))

    commands = []
    for token in tokens:
        if token.type == "fence":
            for line in token.content.splitlines():
                command = line.split("#", 1)[0]  # comments may name what a make target runs
                commands += [part.strip() for part in re.split(r"&&|;|\|", command)]
    commands += [
        child.content
        for token in tokens
        if token.type == "inline"
        for child in token.children or []
        if child.type == "code_inline"
    ]

    # dvc is installed in the project's virtual environment only (the data extra).
    assert [command for command in commands if re.match(r"dvc\b", command)] == []
    if answers["data_versioning"] == "dvc":
        assert ".venv/bin/dvc remote add -d storage" in text
