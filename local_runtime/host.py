"""The local stand-ins for S3, Glue and Athena under one data directory, installed as this process's services.

PIPELINE_HOME  the local data directory (default: <repo>/local_data): warehouse/ stands in for the bucket,
               catalog.json for the Glue Data Catalog, serving.sqlite3 for the DynamoDB serving table, logs/
               keeps each execution's logs and history.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from local_runtime.folder_storage import FolderStorage
from local_runtime.local_catalog import LocalCatalog
from local_runtime.local_history import LocalExecutionHistory
from local_runtime.sqlite_items import SqliteItems
from pipeline.core.errors import ConfigError
from pipeline.core.settings import REPO_ROOT, load_settings
from pipeline.edge.host import install_host
from pipeline.warehouse.ports import Catalog, Services, Storage


class DuckDbOnFirstUse:
    """The local SqlEngine (local_runtime.duckdb_engine.DuckDbEngine), made at its first use: DuckDB and sqlglot
    (~0.1 s of CPU and ~25 MiB to load) are loaded only by a process that queries (PrepareData's handler, the
    launcher's UNLOADs, the CLI), never by a container task, which has no query to run."""

    def __init__(self, catalog: Catalog, storage: Storage, timeout_seconds: int):
        self._arguments = (catalog, storage, timeout_seconds)
        self._engine = None

    def __getattr__(self, name: str) -> Any:  # query, explain, unload, run_unload: the engine's own
        if name.startswith("_"):
            raise AttributeError(name)
        if self._engine is None:
            from local_runtime.duckdb_engine import DuckDbEngine  # here: see the class docstring

            self._engine = DuckDbEngine(*self._arguments)
        return getattr(self._engine, name)


SERVING_FILE = "serving.sqlite3"
WAREHOUSE_DIR = "warehouse"  # the stand-in for the S3 bucket


def local_home(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("PIPELINE_HOME", REPO_ROOT / "local_data")).resolve()


def local_services() -> Services:
    home = local_home()
    storage = FolderStorage(home / WAREHOUSE_DIR)
    catalog = LocalCatalog(home / "catalog.json", home / WAREHOUSE_DIR)
    settings = load_settings()
    return Services(settings, storage, catalog, DuckDbOnFirstUse(catalog, storage, settings.query_timeout_seconds),
                    LocalExecutionHistory(home / "logs"), SqliteItems(home / SERVING_FILE))


def check_data_directory(home: Path) -> None:
    """A data directory that cannot hold the warehouse is said once, up front, rather than as a failed write later."""
    if home.exists() and not home.is_dir():
        raise ConfigError(f"PIPELINE_HOME={home} is a file, not a directory: point it at a folder")
    existing = next(folder for folder in (home, *home.parents) if folder.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"PIPELINE_HOME={home} is not writable ({existing} is read-only for this user): "
                          "point it at a folder you can write")


def install_local_host() -> Services:
    """Make this process's handlers and entrypoints use the local stand-ins; return them."""
    check_data_directory(local_home())
    install_host(local_services)
    return local_services()
