"""The Catalog port as a JSON file: the local stand-in for the Glue Data Catalog.

A partition points at one folder. Results become visible by writing a new folder and then pointing the partition
at it, so readers see the old results or the new ones, never a mix; `publish_partitions` re-points several tables
in one write of the file. Locations are kept relative to the warehouse folder, so a copied or moved data
directory reads its own files.

A file that does not read as that document (truncated, empty, the wrong shape, unreadable) is a
CatalogDamagedError for every reader and every edit: never read as empty, never overwritten. `doctor --repair`
sets it aside and rebuilds the catalog from the publication records.
"""
from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from pipeline.core.errors import CatalogDamagedError
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

    def set_aside(self, aside: Path) -> bool:
        """Move a damaged file to `aside`, kept for a person to look at, so the catalog can be rebuilt; False if
        it reads (again) and was left in place."""
        with self._locked():
            try:
                self._load()
                return False
            except CatalogDamagedError:
                os.replace(self.path, aside)
                return True

    def _load(self) -> dict[str, dict[str, str]]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}  # none yet (or lost: the readers of publication records say so)
        except OSError as error:  # permission denied, a directory in its place
            raise self._damaged(f"it cannot be read ({error.strerror or error})") from error
        try:
            document = json.loads(data)
        except ValueError as error:
            raise self._damaged("it is empty" if not data.strip() else f"it is not JSON, truncated? ({error})"
                                ) from error
        if problem := _shape_problem(document):
            raise self._damaged(problem)
        return document

    def _damaged(self, problem: str) -> CatalogDamagedError:
        return CatalogDamagedError(str(self.path), problem)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    @contextmanager
    def _editing(self) -> Iterator[dict]:
        # One writer at a time (parallel ingests), and write-then-rename so readers never see half a file. A
        # damaged file fails _load, so it is never replaced by an edit of what little could be read.
        with self._locked():
            document = self._load()
            yield document
            partial = self.path.with_suffix(".partial")
            partial.write_text(json.dumps(document, indent=2, sort_keys=True))
            os.replace(partial, self.path)


def _shape_problem(document: object) -> str | None:
    """What keeps `document` from being {table: {partition value: location}}, or None."""
    if not isinstance(document, dict):
        return f"it holds {_snippet(document)} where an object of tables is expected"
    for name, partitions in document.items():
        if not isinstance(partitions, dict):
            return f"table {name!r} holds {_snippet(partitions)} where an object of partitions is expected"
        for value, location in partitions.items():
            if not isinstance(location, str):
                return f"partition {value!r} of table {name!r} holds {_snippet(location)}, not a location"
    return None


def _snippet(value: object) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else f"{text[:37]}..."
