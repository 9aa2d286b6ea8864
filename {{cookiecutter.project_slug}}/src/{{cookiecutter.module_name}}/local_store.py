"""New local SQLite tracking stores start as a copy of an empty one MLflow migrated before.

MLflow builds a new store's schema by running its whole chain of migrations (about a second on
every fresh ``mlflow.db``). The first time, an empty store is built once per MLflow version in
this environment (``<sys.prefix>/share/mlflow-stores/``, so an upgraded MLflow builds its own);
every new store after that is a copy of it. It holds the schema and MLflow's own rows, without
the Default experiment, which MLflow then creates in each copy with that store's artifact root.
Anything that goes wrong here (a read-only environment, a full disk) leaves the store to MLflow.

The empty store is also at the head of this MLflow's migrations, so ``head_revision`` reads that
revision from it instead of MLflow loading all its migration scripts to find it again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

SEEDS = Path(sys.prefix) / "share" / "mlflow-stores"


def sqlite_path(uri: str) -> Path | None:
    """The file of a ``sqlite:///`` tracking URI (None for any other store)."""
    if not uri.startswith("sqlite:///") or "?" in uri:
        return None
    return Path(uri.removeprefix("sqlite:///"))


def seed(uri: str) -> bool:
    """Create the store of ``uri`` from the empty store, if it is a SQLite file that does not
    exist yet; True when it was created here."""
    path = sqlite_path(uri)
    if path is None or path.exists():
        return False
    try:
        empty = _empty_store()
        return _copy_new(empty, path)
    except Exception:  # noqa: BLE001 -- a shortcut only: any failure leaves the store to MLflow
        return False


def head_revision() -> str | None:
    """The schema revision this MLflow migrates new stores to, read from its empty store (None
    until there is one)."""
    try:
        uri = f"{_empty_path().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            rows = db.execute("SELECT version_num FROM alembic_version").fetchall()
    except (sqlite3.Error, ValueError):  # ValueError: a relative sys.prefix has no file URI
        return None
    return rows[0][0] if len(rows) == 1 else None


def _empty_path() -> Path:
    return SEEDS / f"mlflow-{version('mlflow')}.db"


def _empty_store() -> Path:
    path = _empty_path()
    if path.exists():
        return path
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        built = Path(scratch) / "empty.db"
        store = SqlAlchemyStore(f"sqlite:///{built}", str(Path(scratch) / "artifacts"))
        store.engine.dispose()
        with sqlite3.connect(built) as db:
            db.execute("DELETE FROM experiments WHERE experiment_id = 0")
        db.close()
        os.replace(built, path)  # whole or not at all; concurrent builders write the same file
    return path


def _copy_new(source: Path, target: Path) -> bool:
    """Copy ``source`` to ``target`` unless ``target`` appeared meanwhile (never over a store)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        shutil.copyfile(source, partial)
        os.link(partial, target)
    except FileExistsError:
        return False
    finally:
        partial.unlink(missing_ok=True)
    return True
