"""skops' lists of the types it trusts by default, kept per version instead of rebuilt at every
import.

Importing ``skops.io`` first builds those lists (``skops.io._trusted_types``): it imports every
scikit-learn module to list all estimators (``sklearn.utils.all_estimators``) and scans the public
names of numpy and scipy.special -- a third of a second and more of every command that saves or
loads a model, for lists that only change with the versions of skops, scikit-learn, numpy and
scipy. The first import in an environment builds them as skops does and keeps every list of names
in ``<sys.prefix>/share/skops-trusted-types/``, one file per set of versions (like the empty
MLflow stores of local_store.py, so an upgrade builds its own). Later imports put a module with
those lists in place of skops' own before they import ``skops.io``: the same names, so skops
trusts exactly what it would have trusted. A file that cannot be read, or that lacks a name skops
imports from the module (a skops release that changed it), is ignored: skops builds its lists as
usual and the file is written anew. Whoever can write that folder can change the installed
packages themselves, so the file trusts nothing its environment does not already.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import platform
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path
from types import ModuleType

MODULE = "skops.io._trusted_types"
KEPT = Path(sys.prefix) / "share" / "skops-trusted-types"
PACKAGES = ("skops", "scikit-learn", "numpy", "scipy")


def import_skops_io() -> ModuleType:
    """``import skops.io``, with the kept lists when this environment has them."""
    if "skops.io" in sys.modules:
        return sys.modules["skops.io"]
    path = kept_path()
    names = _read(path)
    if names is not None:
        sys.modules[MODULE] = _module(names)
        try:
            return importlib.import_module("skops.io")
        except ImportError:  # skops imports a name the file lacks: build the lists as skops does
            _forget()
    module = importlib.import_module("skops.io")
    _keep(path, sys.modules[MODULE])
    return module


def kept_path() -> Path:
    versions = "-".join(f"{name}-{version(name)}" for name in PACKAGES)
    return KEPT / f"{versions}-{platform.machine()}.json"


def built_by_skops(module: ModuleType) -> bool:
    """False for the module made from a kept file (it has no source file)."""
    return getattr(module, "__file__", None) is not None


def names_of(module: ModuleType) -> dict[str, list[str]]:
    """Every list of names the module holds (what skops' other modules import from it)."""
    return {key: list(value) for key, value in vars(module).items() if _is_names(value)}


def _is_names(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _read(path: Path) -> dict[str, list[str]] | None:
    try:
        names = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    valid = isinstance(names, dict) and all(_is_names(value) for value in names.values())
    return names if valid else None


def _module(names: dict[str, list[str]]) -> ModuleType:
    module = ModuleType(MODULE, "skops' trusted type names, read from a kept file")
    module.__dict__.update(names)
    return module


def _forget() -> None:
    """Drop what a failed import of skops.io left behind, the stand-in module included."""
    for name in [name for name in sys.modules if f"{name}.".startswith("skops.io.")]:
        del sys.modules[name]


def _keep(path: Path, module: ModuleType) -> None:
    """Write the lists whole or not at all; a read-only environment just goes without."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, suffix=".partial", delete=False
        ) as partial:
            json.dump(names_of(module), partial)
        try:
            os.replace(partial.name, path)
        finally:
            Path(partial.name).unlink(missing_ok=True)
