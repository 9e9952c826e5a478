"""Parquet and JSON through the Storage port, whichever runtime is behind it.

Keys are relative to the warehouse root ("results/predictions/run_date=…/part-0.parquet"); `storage.uri(key)`
gives the absolute location the catalog records.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import tempfile
from contextlib import ExitStack, contextmanager
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.warehouse import tables
from pipeline.warehouse.layout import ATTEMPT_FOLDER, attempt_prefix
from pipeline.warehouse.ports import Storage


def write_parquet(storage: Storage, key: str, table: pa.Table) -> None:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    storage.write_bytes(key, sink.getvalue())


def write_execution_rows(storage: Storage, table_name: str, run_date: dt.date, execution_name: str, rows: list[dict],
                         file_name: str = "part-0.parquet") -> None:
    """Rows of a results table into the execution's own folder of the week (Publish points the partition at it)."""
    key = f"{attempt_prefix(table_name, run_date, execution_name)}{file_name}"
    write_parquet(storage, key, tables.table(table_name).rows_table(rows))


def data_keys(storage: Storage, prefix: str) -> list[str]:
    """The data files under a prefix. Athena's UNLOAD names its Parquet files without an extension, so every
    file counts except hidden ones ("." or "_" first, like Spark's _SUCCESS)."""
    return [key for key in storage.list_keys(prefix) if not key.rsplit("/", 1)[-1].startswith((".", "_"))]


def required_data_keys(storage: Storage, prefix: str) -> list[str]:
    keys = data_keys(storage, prefix)
    if not keys:
        raise FileNotFoundError(f"no Parquet files under {storage.uri(prefix)}")
    return keys


def newest_attempt(storage: Storage, prefix: str) -> str:
    """The newest `attempt=N/` folder under `prefix`: each attempt of an execution UNLOADs its sets into one of
    its own (an earlier attempt may have left part of a set behind)."""
    attempts = {int(match[1]) for key in storage.list_keys(prefix)
                if (match := re.match(rf"{re.escape(prefix)}{ATTEMPT_FOLDER}(\d+)/", key))}
    if not attempts:
        raise FileNotFoundError(f"no {ATTEMPT_FOLDER}N/ folder under {storage.uri(prefix)}: its UNLOAD wrote nothing")
    return f"{prefix}{ATTEMPT_FOLDER}{max(attempts)}/"


def read_parquet(storage: Storage, prefix_or_key: str, columns: list[str] | None = None) -> pa.Table:
    """One file, or every data file under a prefix (in key order), as one table (of `columns` only, if given)."""
    keys = [prefix_or_key] if prefix_or_key.endswith(".parquet") else required_data_keys(storage, prefix_or_key)
    tables = [pq.read_table(io.BytesIO(storage.read_bytes(key)), columns=columns) for key in keys]
    return pa.concat_tables(tables, promote_options="default")


# Rows per batch when streaming: a few tens of MB of columns, small beside a task's memory, large enough that
# per-batch overheads vanish.
BATCH_ROWS = 131_072


@contextmanager
def local_copies(storage: Storage, keys: list[str]) -> Iterator[list[str]]:
    """The objects as paths on this machine's disk (S3 objects downloaded once), to be read in batches as
    often as needed."""
    with ExitStack() as stack:
        yield [stack.enter_context(storage.local_copy(key)) for key in keys]


def data_keys_by_partition(storage: Storage, prefix: str, column: str) -> dict[str, list[str]]:
    """The data files under a hive-partitioned prefix, by the value of `column` in their folder names."""
    grouped: dict[str, list[str]] = {}
    for key in required_data_keys(storage, prefix):
        folder = next((part for part in key.split("/") if part.startswith(f"{column}=")), None)
        if folder is None:
            raise FileNotFoundError(f"{storage.uri(key)} is not in a {column}=… folder")
        grouped.setdefault(folder.split("=", 1)[1], []).append(key)
    return grouped


def parquet_batches(paths: list[str], columns: list[str] | None = None,
                    batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """Every row of the files, in batches: memory holds one batch at a time, whatever the files' size. (Arrow's
    default pre-buffering reads a file's row groups ahead of the batches asked for, as fast as the disk gives them:
    1.5 GB ahead when landing 100M events.)"""
    for path in paths:
        yield from pq.ParquetFile(path, pre_buffer=False).iter_batches(batch_size=batch_rows, columns=columns)


@contextmanager
def parquet_output(storage: Storage, key: str, schema: pa.Schema) -> Iterator[pq.ParquetWriter]:
    """A Parquet writer whose batches go to a file on this disk, stored under `key` when the block ends
    without an error (so a failed writer leaves no object)."""
    with tempfile.TemporaryDirectory(prefix="parquet-output-") as folder:
        path = os.path.join(folder, "part.parquet")
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            yield writer
        storage.upload_file(path, key)


def parquet_row_count(storage: Storage, prefix: str) -> int:
    """Rows under a prefix, from the Parquet footers (each file is still fetched whole from S3)."""
    return sum(pq.ParquetFile(io.BytesIO(storage.read_bytes(key))).metadata.num_rows
               for key in data_keys(storage, prefix))


def write_json(storage: Storage, key: str, document: Any) -> None:
    storage.write_bytes(key, json.dumps(document, indent=2, default=str).encode())


def read_json(storage: Storage, key: str) -> Any:
    return json.loads(storage.read_bytes(key))
