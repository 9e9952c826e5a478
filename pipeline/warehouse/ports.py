"""The interfaces that hide the runtime, and the bundle a stage is given.

Stages speak to storage, the catalog, the SQL engine and the serving table only through these. The AWS adapters
live in `pipeline/aws/`; the local stand-ins (a folder, a JSON catalog, DuckDB, SQLite) in `local_runtime/`, which
never ships. Importing this module loads nothing else (its types are for annotations only), so the API's Lambda
can use ItemTable without pyarrow.
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pyarrow as pa

    from pipeline.core.settings import Settings
    from pipeline.warehouse.tables import TableDef


class Storage(Protocol):
    """Objects under a warehouse root (a folder or an S3 bucket), addressed by keys relative to it."""

    root: str

    def uri(self, key: str) -> str: ...
    def key_of(self, uri: str) -> str: ...
    def write_bytes(self, key: str, data: bytes) -> None: ...
    def read_bytes(self, key: str) -> bytes: ...  # FileNotFoundError if there is no such key
    def exists(self, key: str) -> bool: ...
    def create_exclusive(self, key: str, data: bytes) -> bool: ...  # False if the key exists: nothing written
    # Write `data` only if the key still holds `expected` (a compare-and-swap); False if it changed or is gone
    def replace_if_unchanged(self, key: str, expected: bytes, data: bytes) -> bool: ...
    def list_keys(self, prefix: str) -> list[str]: ...
    def delete_prefix(self, prefix: str) -> int: ...
    # For reading a large object in pieces: a path on this machine's disk holding it, for the `with` block
    def local_copy(self, key: str) -> AbstractContextManager[str]: ...  # FileNotFoundError if there is no such key
    def upload_file(self, path: str, key: str) -> None: ...  # the file's bytes become the object, streamed
    def copy(self, source: str, key: str) -> None: ...  # another key's object, copied where it lies (not through here)
    # The object's SHA-256 as S3 reports it (base64), None if none was taken; FileNotFoundError if no such key
    def checksum(self, key: str) -> str | None: ...


class Catalog(Protocol):
    """Which folder each partition of each table reads (Glue on AWS)."""

    def partitions(self, table: TableDef) -> dict[str, str]: ...
    def put_partition(self, table: TableDef, value: str, location: str) -> None: ...
    def drop_partition(self, table: TableDef, value: str) -> None: ...
    # Many partitions of one table at once (value -> location); one that exists already is re-pointed, not an error
    def register_partitions(self, table: TableDef, locations: dict[str, str]) -> None: ...
    # Re-point several tables' partitions: in one write where the catalog can (locally), else put back on failure
    def publish_partitions(self, value: str, locations: dict[TableDef, str]) -> None: ...

class SqlEngine(Protocol):
    """Athena SQL over the catalog's tables (Athena on AWS)."""

    def query(self, sql: str, params: dict[str, str | int | float] | None = None) -> pa.Table: ...
    # The SELECT's rows as Parquet under the storage prefix (empty or absent), a folder per value of
    # `partition_by` as UNLOAD writes them: for results too large to hold (ingest-events' weeks)
    def unload(self, sql: str, prefix: str, partition_by: str | None = None) -> int | None: ...


Item = dict[str, Any]  # a serving table's item: its key "pk" and "sk", then JSON-like values


class ItemTable(Protocol):
    """Items under a (pk, sk) key, each with an optional expiry (DynamoDB on AWS): the serving store's table."""

    def put_items(self, items: list[Item]) -> None: ...  # any number, batched and retried by the adapter
    def get_items(self, keys: list[tuple[str, str]]) -> list[Item]: ...  # the ones that exist, in the keys' order
    # Write the item unless the stored one's `field` is greater (a compare-and-set); False if it was
    def put_unless_later(self, item: Item, field: str) -> bool: ...
    def purge_expired(self) -> int: ...  # delete expired items, where no TTL does; how many went


@dataclass
class StateTime:
    """One state's time in an execution: the seconds of its finished visits, and when an unfinished one began."""
    seconds: float = 0.0
    open_since: float | None = None  # epoch seconds
    stopped: bool = False  # the execution failed, timed out or was aborted while in this state

    def enter(self, at: float) -> None:
        self.open_since = at

    def leave(self, at: float, stopped: bool = False) -> None:
        if self.open_since is not None:
            self.seconds += at - self.open_since
            self.open_since = None
            self.stopped = stopped

    def up_to(self, now: float) -> float:
        return self.seconds + (now - self.open_since if self.open_since is not None else 0.0)


class ExecutionHistory(Protocol):
    """When an execution's states ran (Step Functions' execution history on AWS)."""

    def state_times(self, execution_id: str) -> dict[str, StateTime]: ...  # by state name


@dataclass(frozen=True)
class Services:
    settings: Settings
    storage: Storage
    catalog: Catalog
    sql: SqlEngine
    history: ExecutionHistory
    serving: ItemTable
