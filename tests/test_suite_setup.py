"""The suite's own machinery: tests that share an expensive fixture stay on one worker."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import run, tool

GROUPED = """
import os
import pytest

@pytest.mark.xdist_group("shared")
@pytest.mark.parametrize("i", range(4))
def test_grouped(i):
    print(os.environ["PYTEST_XDIST_WORKER"])

@pytest.mark.parametrize("i", range(4))
def test_free(i):
    pass
"""


def test_loadgroup_keeps_a_group_on_one_worker(tmp_path: Path) -> None:
    # make test runs with --dist loadgroup: the act lifecycle (about 6 minutes) is built once
    # only if its tests share a worker. Some pytest/xdist pairs drop the grouping silently.
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    result = run(
        [tool("pytest"), "-n", "2", "--dist", "loadgroup", "-v", "-p", "no:cacheprovider"],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    workers = set(re.findall(r"\[(gw\d)\] .*PASSED test_grouped\.py::test_grouped", result.stdout))
    assert len(workers) == 1, result.stdout
