"""The Catalog port as a JSON file: the local stand-in for the Glue Data Catalog.

A partition points at one folder. Results become visible by writing a new folder and then pointing the partition
at it, so readers see the old results or the new ones, never a mix; `publish_partitions` re-points several tables
in one write of the file. Locations are kept relative to the warehouse folder, so a copied or moved data
directory reads its own files.
"""
from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from pipeline.warehouse.tables import TableDef

IN_WAREHOUSE = "./"  # how a stored location relative to the warehouse folder begins


class LocalCatalog:
    """{"engagement.table": {"partition value": location relative to the warehouse folder}}."""

    def __init__(self, path: Path, warehouse: Path):
        self.path = path
        self.warehouse = warehouse.resolve()

    def partitions(self, table: TableDef) -> dict[str, str]:
        stored = self._load().get(table.qualified_name, {})
        return {value: self._location(stored[value]) for value in sorted(stored)}

    def put_partition(self, table: TableDef, value: str, location: str) -> None:
        self.publish_partitions(value, {table: location})

    def register_partitions(self, table: TableDef, locations: dict[str, str]) -> None:
        with self._editing() as document:
            for value, location in locations.items():
                document.setdefault(table.qualified_name, {})[value] = self._stored(location)

    def publish_partitions(self, value: str, locations: dict[TableDef, str]) -> None:
        with self._editing() as document:
            for table, location in locations.items():
                document.setdefault(table.qualified_name, {})[value] = self._stored(location)

    def drop_partition(self, table: TableDef, value: str) -> None:
        with self._editing() as document:
            document.get(table.qualified_name, {}).pop(value, None)

    def _stored(self, location: str) -> str:
        path = Path(location)
        if not path.is_relative_to(self.warehouse):
            return location  # a folder outside the warehouse, registered by hand: kept as given
        return f"{IN_WAREHOUSE}{path.relative_to(self.warehouse)}/"

    def _location(self, stored: str) -> str:
        if not stored.startswith(IN_WAREHOUSE):
            return stored
        return f"{self.warehouse / stored.removeprefix(IN_WAREHOUSE)}/"

    def _load(self) -> dict[str, dict[str, str]]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    @contextmanager
    def _editing(self) -> Iterator[dict]:
        # One writer at a time (parallel ingests), and write-then-rename so readers never see half a file.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            document = self._load()
            yield document
            partial = self.path.with_suffix(".partial")
            partial.write_text(json.dumps(document, indent=2, sort_keys=True))
            os.replace(partial, self.path)
