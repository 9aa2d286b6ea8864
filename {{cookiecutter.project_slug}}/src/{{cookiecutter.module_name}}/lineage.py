"""Which data a model was trained on: the file's digests and the version its .dvc file records."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml

from .errors import DataError


def digests(path: Path) -> tuple[str, str]:
    """SHA-256 and MD5 of the file's bytes, in one pass (MD5 is what DVC 3 records)."""
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
            md5.update(block)
    return sha.hexdigest(), md5.hexdigest()


def sha256(path: Path) -> str:
    return digests(path)[0]


def dvc_file(path: Path) -> Path:
    """The DVC pointer file that versions ``path`` (it may not exist)."""
    return path.with_name(f"{path.name}.dvc")


def _dvc_record(path: Path) -> dict | None:
    """The output entry of ``path``'s .dvc file (md5, size), or None when DVC does not track it."""
    pointer = dvc_file(path)
    try:
        record = yaml.safe_load(pointer.read_text())["outs"][0]
        return {"md5": str(record["md5"]), "size": record.get("size")}
    except FileNotFoundError:
        return None
    except (yaml.YAMLError, TypeError, KeyError, IndexError):
        raise DataError(f"{pointer}: not a DVC file with an md5 (run `make data-push`)") from None


def dvc_md5(path: Path) -> str | None:
    """The MD5 that ``path``'s .dvc file records, or None when DVC does not track it."""
    record = _dvc_record(path)
    return None if record is None else str(record["md5"])


def dvc_size(path: Path) -> int | None:
    """The size in bytes that ``path``'s .dvc file records (None when it records none)."""
    record = _dvc_record(path) or {}
    return None if record.get("size") is None else int(record["size"])


LINEAGE_TAGS = ("data_sha256", "data_md5", "data_dvc_md5")


def lineage(path: Path) -> dict[str, str]:
    """Tags that name the exact data: the file's SHA-256 and MD5, and the MD5 its .dvc records.

    ``data_md5 == data_dvc_md5`` means the file is the version DVC tracks (and can pull again).
    """
    sha, md5 = digests(path)
    tags = {"data_sha256": sha, "data_md5": md5}
    if (recorded := dvc_md5(path)) is not None:
        tags["data_dvc_md5"] = recorded
    return tags


def unversioned(record: dict[str, Any]) -> str | None:
    """Why the trained-on data is not the version its .dvc file names (None when it is)."""
    recorded = record.get("data_dvc_md5")
    if recorded is None or recorded == record.get("data_md5"):
        return None
    return (
        f"the data (md5 {record.get('data_md5')}) differs from the version its .dvc file records "
        f"({recorded}): `make data-push` and commit the .dvc file before registering"
    )
