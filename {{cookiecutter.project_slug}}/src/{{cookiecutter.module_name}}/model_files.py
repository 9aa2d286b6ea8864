"""What a registered model is made of: the digest of its files, the one format it may be, and
the pinned environment it runs in.

At registration the SHA-256 of every file of the model's artifacts goes into one digest, tagged on
the version as ``model_sha256``. Every load downloads the version's files, recomputes the digest
and compares it before anything is deserialised, then accepts only a scikit-learn model saved with
skops (whose loader refuses types nobody trusted), never pickle or cloudpickle. A file changed,
added or removed on the artifact store after registration changes the digest.
"""

from __future__ import annotations

import hashlib
import platform
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

# The model's runtime needs: explicit pins avoid MLflow's requirement inference (seconds per run).
MODEL_PACKAGES = ("mlflow", "scikit-learn", "skops", "pandas", "numpy", "scipy")
DIGEST_TAG = "model_sha256"
SKOPS_FILE = "model.skops"
# Written by MLflow's client into every model it downloads through a ``models:/`` URI (the
# registered name and version), so not one of the stored files; never deserialised here.
WRITTEN_ON_DOWNLOAD = "registered_model_meta"
# The only types a model may ask skops to trust beyond skops' own defaults: scikit-learn's,
# numpy's, scipy's and this project's. The list lives in the model's MLmodel file, so whoever
# registers a version chooses it; a type from anywhere else (``builtins.eval``, ``os.system``)
# would let the file run code.
TRUSTABLE = ("sklearn.", "numpy.", "scipy.", f"{__name__.split('.')[0]}.")


class Refused(Exception):
    """The files are not the registered model (or not a skops model): do not load them."""


def file_digests(directory: Path) -> dict[str, str]:
    """SHA-256 of every stored file below ``directory``, by its POSIX path relative to it."""
    digests = {}
    written = directory / WRITTEN_ON_DOWNLOAD  # at the top only: anywhere else it is stored
    stored = (p for p in directory.rglob("*") if p.is_file() and p != written)
    for path in sorted(stored):
        sha = hashlib.sha256()
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                sha.update(block)
        digests[path.relative_to(directory).as_posix()] = sha.hexdigest()
    return digests


def digest(files: dict[str, str]) -> str:
    """One SHA-256 over the sorted ``path  sha256`` lines (the format of ``sha256sum``)."""
    lines = "".join(f"{sha}  {path}\n" for path, sha in sorted(files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def verify(directory: Path, expected: str | None) -> dict:
    """The sklearn flavour of the model in ``directory`` once its files match ``expected`` and it
    is a skops model; Refused (saying why) otherwise. Nothing in the files is executed."""
    if not expected:
        raise Refused(f"it has no {DIGEST_TAG} tag (registered before digests: register it again)")
    if digest(file_digests(directory)) != expected:
        raise Refused(f"its files do not match its {DIGEST_TAG} tag (changed after registration)")
    try:
        # safe_load builds plain data only: the MLmodel file cannot run anything here.
        mlmodel = yaml.safe_load((directory / "MLmodel").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        raise Refused("its MLmodel file is missing or unreadable") from None
    flavors = mlmodel.get("flavors") if isinstance(mlmodel, dict) else None
    flavor = flavors.get("sklearn") if isinstance(flavors, dict) else None
    if not isinstance(flavor, dict) or flavor.get("serialization_format") != "skops":
        raise Refused("it is not a scikit-learn model saved with skops")
    if flavor.get("pickled_model") != SKOPS_FILE or not (directory / SKOPS_FILE).is_file():
        raise Refused(f"its model file is not {SKOPS_FILE}")
    trusted = flavor.get("skops_trusted_types") or []
    if not isinstance(trusted, list) or not all(isinstance(name, str) for name in trusted):
        raise Refused("its skops_trusted_types is not a list of type names")
    if foreign := [name for name in trusted if not name.startswith(TRUSTABLE)]:
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        shown = ", ".join(foreign[:3]) + more
        raise Refused(f"it asks skops to trust {shown}: not scikit-learn, numpy, scipy or ours")
    return flavor


def requirements() -> list[str]:
    return [f"{name}=={version(name)}" for name in MODEL_PACKAGES]


def environment() -> dict[str, Any]:
    """conda.yaml of the model, with the exact pins of its requirements.txt. Given whole (not as
    ``pip_requirements``), MLflow does not look up pip's own version -- absent from uv's
    environments, which made it warn on every training run."""
    pins = requirements()
    return {
        "name": "mlflow-env",
        "channels": ["conda-forge"],
        "dependencies": [f"python={platform.python_version()}", "pip", {"pip": pins}],
    }
