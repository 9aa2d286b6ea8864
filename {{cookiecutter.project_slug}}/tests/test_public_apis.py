"""The package uses other packages through their public, documented APIs only.

A private name (leading underscore) of another package, a patched library, an edit of the import
system, the C library, a fork or a skipped interpreter shutdown all break on an upgrade, or
quietly change what the library does: none of them is in ``src/``. The checks read the source
with ``ast``; each finding names its file and line.
"""

from __future__ import annotations

import ast

import pytest
from conftest import PROJECT_ROOT

PACKAGE = "{{ cookiecutter.module_name }}"
SOURCES = sorted((PROJECT_ROOT / "src" / PACKAGE).rglob("*.py"))
# Process-level switches that no module of ours turns. (timings.importing pauses the garbage
# collector while importing and freezes what was loaded; its thresholds stay Python's.)
FORBIDDEN = {
    "os": {"_exit", "fork", "forkpty"},
    "gc": {"set_threshold", "unfreeze"},
    "sys": {"modules", "setrecursionlimit", "setswitchinterval"},
}


def _private(name: str) -> bool:
    """A private name: a leading underscore, and not a dunder (``__name__``)."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _own(module: str | None, level: int) -> bool:
    return level > 0 or module == PACKAGE or (module or "").startswith(f"{PACKAGE}.")


def findings(source: str, path: str = "<source>") -> list[str]:
    """``path:line: what`` for every use of another package's internals in ``source``."""
    tree = ast.parse(source)
    found: list[str] = []
    own_names = {"self", "cls"}  # names bound to our own modules, classes and instances
    # The private names this source defines: the only ones ``self._x`` may use (a private method
    # of a parent class from another package is that package's internals too).
    defined = {
        node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.ClassDef)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            defined.add(node.attr)
    foreign: dict[str, str] = {}  # name -> the other package's module it is bound to

    def report(node: ast.AST, what: str) -> None:
        found.append(f"{path}:{node.lineno}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _own(alias.name, 0):
                    own_names.add((alias.asname or alias.name).split(".")[0])
                    continue
                if alias.name.split(".")[0] == "ctypes":
                    report(node, "import of ctypes (the C library)")
                if any(_private(part) for part in alias.name.split(".")):
                    report(node, f"import of a private module: {alias.name}")
                bound = alias.asname or alias.name.split(".")[0]
                foreign[bound] = alias.name if alias.asname else bound
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if _own(module, node.level):
                own_names.update(alias.asname or alias.name for alias in node.names)
                continue
            if module.split(".")[0] == "ctypes":
                report(node, "import from ctypes (the C library)")
            if any(_private(part) for part in module.split(".")):
                report(node, f"import from a private module: {module}")
            for alias in node.names:
                if _private(alias.name):
                    report(node, f"import of a private name: from {module} import {alias.name}")
                foreign[alias.asname or alias.name] = f"{module}.{alias.name}"

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            owner = node.value
            owner_name = owner.id if isinstance(owner, ast.Name) else None
            module = foreign.get(owner_name or "", "")
            if node.attr in FORBIDDEN.get(module, ()):
                report(node, f"{module}.{node.attr}")
            elif _private(node.attr) and owner_name not in own_names:
                report(node, f"private attribute of another object: .{node.attr}")
            elif _private(node.attr) and owner_name in ("self", "cls") and node.attr not in defined:
                report(node, f"private attribute inherited from another package: .{node.attr}")
            root = owner
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(node.ctx, ast.Store | ast.Del) and getattr(root, "id", "") in foreign:
                report(node, f"patch of another package: .{node.attr} assigned")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            first = node.args[0] if node.args else None
            patched = isinstance(first, ast.Name) and first.id in foreign
            if node.func.id in ("setattr", "delattr") and patched:
                report(node, f"patch of another package: {node.func.id}({first.id}, ...)")
    return found


def test_the_package_uses_public_apis_only() -> None:
    assert SOURCES, f"no sources under src/{PACKAGE}"
    found = []
    for path in SOURCES:
        source = path.read_text(encoding="utf-8")
        found += findings(source, str(path.relative_to(PROJECT_ROOT)))
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from mlflow.store.db import utils as u\nu._get_latest_schema_revision()", "private"),
        ("from skops.io._trusted_types import SCIPY_UFUNC_TYPE_NAMES", "private module"),
        ("import skops.io._trusted_types", "private module"),
        ("from sklearn.utils import _param_validation", "private name"),
        ("def f(estimator):\n    estimator._validate_params()", "private attribute"),
        ("class C(Base):\n    def f(self):\n        return super()._hstack([])", "._hstack"),
        ("class S(StandardScaler):\n    def fit(self, x):\n        self._reset()", "._reset"),
        ("import atexit\natexit._run_exitfuncs()", "private attribute"),
        ("import os\nos._exit(0)", "os._exit"),
        ("import os\npid = os.fork()", "os.fork"),
        ("import gc\ngc.set_threshold(100_000)", "gc.set_threshold"),
        ("import sys\nsys.modules['mlflow.gateway'] = object()", "sys.modules"),
        ("import ctypes\nctypes.CDLL(None).mallopt(-3, 1)", "ctypes"),
        ("import mlflow.pyfunc\nmlflow.pyfunc.check = None", "patch"),
        ("from mlflow.utils import environment\nsetattr(environment, 'x', None)", "patch"),
    ],
)
def test_the_check_finds_each_kind_of_internal_use(source: str, expected: str) -> None:
    found = findings(source, "example.py")
    assert found, source
    assert any(expected in finding and finding.startswith("example.py:") for finding in found)


def test_the_check_leaves_public_and_own_names_alone() -> None:
    source = (
        "import os\n"
        "import sys\n"
        "from pathlib import Path\n"
        f"from {PACKAGE} import jobs\n"
        "from . import tracking\n"
        "from .config import _Settings\n"
        "class A:\n"
        "    def f(self, other: Path) -> str:\n"
        "        self._cache = tracking._first_line(ValueError('x'))\n"
        "        jobs._gate(None)\n"
        "        return other.__class__.__name__ + os.environ.get('HOME', '') + sys.argv[0]\n"
    )
    assert findings(source) == []
