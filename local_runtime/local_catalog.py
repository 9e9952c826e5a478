"""The Catalog port as a JSON file: the local stand-in for the Glue Data Catalog.

A partition points at one folder. Results become visible by writing a new folder and then pointing the partition
at it (`put_partition`), so readers see the old results or the new ones, never a mix.
"""
from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from pipeline.tables import TableDef


class LocalCatalog:
    """A JSON file standing in for the Glue Data Catalog: {"engagement.table": {"partition value": location}}."""

    def __init__(self, path: Path):
        self.path = path

    def partitions(self, table: TableDef) -> dict[str, str]:
        return dict(sorted(self._load().get(table.qualified_name, {}).items()))

    def put_partition(self, table: TableDef, value: str, location: str) -> None:
        with self._editing() as document:
            document.setdefault(table.qualified_name, {})[value] = location

    def drop_partition(self, table: TableDef, value: str) -> None:
        with self._editing() as document:
            document.get(table.qualified_name, {}).pop(value, None)

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
