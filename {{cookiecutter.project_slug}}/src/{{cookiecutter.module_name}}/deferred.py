"""Packages imported on first use instead of with their parent.

``import mlflow`` imports ``mlflow.gateway``, the client of MLflow's AI gateway, whatever the
process does with MLflow: it loads FastAPI and Starlette for one exception class (0.15-0.3 s of
every command that imports MLflow), and nothing in training, registering or predicting a tabular
model calls it. ``defer("mlflow.gateway")``, called before MLflow's first import, puts a stand-in
in its place that knows where the package lives: its modules (``mlflow.gateway.constants``, which
MLflow's GenAI judges import) load as usual without the package's own ``__init__``, and the first
use of anything else in it (``mlflow.gateway.get_gateway_uri``, ``from mlflow.gateway import
...``) imports the real package, which from then on replaces the stand-in everywhere it is looked
up. Nothing changes once MLflow has been imported: ``defer`` then does nothing.

Not deferred, measured: ``mlflow.genai`` (a further tenth of a second) cannot be, because MLflow's
own modules import parts of it (``mlflow.genai.scorers`` from the tracking store's tables) that
only import in the order the package's ``__init__`` gives them.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
from types import ModuleType


class Deferred(ModuleType):
    """Stands in for a package until something other than its modules is looked up on it."""

    def __getattr__(self, attribute: str) -> object:
        return getattr(load(self), attribute)


def defer(name: str) -> bool:
    """Put a stand-in for package ``name`` in ``sys.modules`` unless its top-level package is
    imported already; True when it did."""
    top, _, _ = name.partition(".")
    if top in sys.modules:
        return False
    found = importlib.util.find_spec(top)  # a top-level package's spec: nothing is imported
    locations = found.submodule_search_locations if found is not None else None
    spec = importlib.machinery.PathFinder.find_spec(name, locations) if locations else None
    if spec is None or spec.submodule_search_locations is None:
        return False  # not installed, or a module rather than a package: nothing to defer
    stand_in = Deferred(name)
    stand_in.__spec__ = spec
    stand_in.__loader__ = spec.loader
    stand_in.__file__ = spec.origin
    stand_in.__path__ = list(spec.submodule_search_locations)
    stand_in.__package__ = name
    sys.modules[name] = stand_in
    return True


def load(stand_in: Deferred) -> ModuleType:
    """The real package for ``stand_in``, imported the first time it is asked for."""
    name = stand_in.__name__
    if sys.modules.get(name) is stand_in:
        del sys.modules[name]
    real = importlib.import_module(name)  # which also binds it on its parent package
    for key, value in vars(stand_in).items():  # its modules imported while it stood in
        if isinstance(value, ModuleType) and not hasattr(real, key):
            setattr(real, key, value)
    return real
