"""The package keeps the shape the README's Architecture section describes.

Layers, lowest first; a module imports only from its own layer or a lower one, so a change to a
stage never ripples into the logic under it. The checks read the source with ``ast``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT

PACKAGE = "{{ cookiecutter.module_name }}"
SOURCE = PROJECT_ROOT / "src" / PACKAGE
MAX_LINES = 300
# Lowest first. A module not listed here is in the layer of its folder (core/, stages/).
LAYERS = {
    "foundation": {"__init__", "errors", "console", "files", "timings", "cancel", "metric_names"},
    "settings": {"schema", "config"},
    "core": {"core"},
    "io": {
        "data",
        "lineage",
        "provenance",
        "reports",
        "figures",
        "drift_report",
        "cluster",
        "batch",
        "model_files",
        "tracking",
        "registry",
        "access",
    },
    "stages": {"stages"},
    "entry": {"cli", "__main__", "serving", "flow"},
}
RANK = {name: rank for rank, members in enumerate(LAYERS.values()) for name in members}
# The only modules that import MLflow: runs and artifacts, the registry, users and grants.
MLFLOW_MODULES = {"tracking", "registry", "access"}


def _modules() -> dict[str, Path]:
    """Dotted name inside the package (``stages.train``) -> path."""
    found = {}
    for path in sorted(SOURCE.rglob("*.py")):
        parts = path.relative_to(SOURCE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name or "__init__"] = path
    return found


MODULES = _modules()


def _layer(name: str) -> int:
    return RANK[name] if name in RANK else RANK[name.split(".")[0]]


def _own_imports(name: str, path: Path) -> set[str]:
    """The package's modules that ``name`` imports, anywhere in the file."""
    package = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")
    package = [part for part in package if part != "__init__"]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            for alias in node.names:
                candidate = f"{target}.{alias.name}" if target else alias.name
                found.add(candidate if candidate in MODULES else target or alias.name)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE):
            found.add(node.module.removeprefix(PACKAGE).lstrip(".") or "__init__")
    return {module for module in found if module in MODULES and module != name}


def _foreign_imports(path: Path) -> set[str]:
    """Top-level names of the other packages ``path`` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_is_short_enough_to_read_at_once(name: str) -> None:
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name}: {lines} lines (split it by what changes together)"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down_the_layers_only(name: str) -> None:
    above = {
        imported
        for imported in _own_imports(name, MODULES[name])
        if _layer(imported) > _layer(name)
    }
    assert not above, f"{name} imports from a layer above it: {sorted(above)}"


def test_no_two_modules_import_each_other_even_indirectly() -> None:
    graph = {name: _own_imports(name, path) for name, path in MODULES.items()}
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for imported in sorted(graph[name]):
            if state.get(imported) == "open":
                cycle = trail[trail.index(imported) :] + [imported]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if imported not in state:
                visit(imported, [*trail, imported])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_only_tracking_registry_and_access_talk_to_mlflow() -> None:
    users = {name for name, path in MODULES.items() if "mlflow" in _foreign_imports(path)}
    assert users == MLFLOW_MODULES


def test_pure_logic_touches_neither_mlflow_nor_files() -> None:
    for name, path in MODULES.items():
        if _layer(name) != RANK["core"]:
            continue
        source = path.read_text(encoding="utf-8")
        assert "mlflow" not in _foreign_imports(path), name
        for call in ("open(", ".read_text(", ".write_text(", ".to_csv(", "read_csv("):
            assert call not in source, f"{name}: {call} (file I/O belongs in data.py/reports.py)"


def _side_effects(tree: ast.Module) -> list[int]:
    """Lines of module-level statements that do something on import (a call, an assignment
    into another object), beyond defining names."""

    def acts(node: ast.stmt) -> bool:
        if isinstance(node, ast.Expr):
            return not isinstance(node.value, ast.Constant)  # a docstring does nothing
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            return any(isinstance(target, ast.Subscript | ast.Attribute) for target in targets)
        return False

    return [node.lineno for node in tree.body if acts(node)]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_importing_a_module_changes_nothing(name: str) -> None:
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    assert _side_effects(tree) == [], f"{name}: statements run on import"


def test_the_side_effect_check_sees_an_environment_edit() -> None:
    source = "import os\nos.environ['X'] = '1'\nos.environ.setdefault('Y', '2')\nA = 1\n"
    assert _side_effects(ast.parse(source)) == [2, 3]


def test_each_command_maps_to_one_stage_function() -> None:
    from {{ cookiecutter.module_name }}.cli import COMMANDS

    for command, (module, function) in COMMANDS.items():
        tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
        defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert function in defined, f"{command}: {module}.{function} is not defined"
