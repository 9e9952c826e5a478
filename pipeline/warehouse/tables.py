"""Table definitions of the `engagement` database, read from `glue/*.json`.

The same files feed the local catalog and the SAM template. `glue/snapshots.json` is generated from the input
contract (`engagement-pipeline contract --glue`) and a test keeps the two in step.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

import pyarrow as pa

from pipeline.core.settings import DATABASE, REPO_ROOT
from pipeline.warehouse.contract import ARROW_TYPES, COLUMNS, PARTITION_COLUMN

GLUE_DIR = REPO_ROOT / "glue"


@dataclass(frozen=True)
class TableDef:
    name: str
    description: str
    location: str  # key prefix under the warehouse root, ends with "/"
    columns: tuple[tuple[str, str], ...]  # (name, Athena type)
    partition_keys: tuple[tuple[str, str], ...]

    @property
    def qualified_name(self) -> str:
        return f"{DATABASE}.{self.name}"

    @property
    def partition_key(self) -> str:
        return self.partition_keys[0][0]

    def partition_prefix(self, value: str) -> str:
        return f"{self.location}{self.partition_key}={value}/"

    def arrow_schema(self) -> pa.Schema:
        """Schema of the table's data files (partition keys live in the folder, not the file)."""
        return pa.schema([pa.field(name, ARROW_TYPES[type_]) for name, type_ in self.columns])

    def rows_table(self, rows: list[dict]) -> pa.Table:
        """Rows as a data file's table: the table's columns only, in its order; a column a row lacks is null."""
        schema = self.arrow_schema()
        return pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in rows], schema=schema)


def snapshots_document() -> dict:
    """The Glue definition of the raw snapshots table, derived from the contract."""
    return {
        "name": "snapshots",
        "description": "Raw weekly snapshots, one row per customer per week, as landed by generate/ingest.",
        "location": "raw/snapshots/",
        "columns": [{"name": c.name, "type": c.type, "comment": c.description} for c in COLUMNS],
        "partition_keys": [{"name": PARTITION_COLUMN, "type": "date", "comment": "Date of the weekly snapshot"}],
    }


def _from_document(document: dict) -> TableDef:
    return TableDef(
        name=document["name"],
        description=document["description"],
        location=document["location"],
        columns=tuple((column["name"], column["type"]) for column in document["columns"]),
        partition_keys=tuple((key["name"], key["type"]) for key in document["partition_keys"]),
    )


@cache
def table_documents() -> tuple[dict, ...]:
    """The Glue definitions as written in `glue/*.json`, column comments included."""
    return tuple(json.loads(path.read_text()) for path in sorted(GLUE_DIR.glob("*.json")))


@cache
def table_definitions() -> dict[str, TableDef]:
    return {document["name"]: _from_document(document) for document in table_documents()}


def table(name: str) -> TableDef:
    return table_definitions()[name]
