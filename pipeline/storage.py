"""Parquet and JSON through the Storage port, whichever runtime is behind it.

Keys are relative to the warehouse root ("results/predictions/run_date=…/part-0.parquet"); `storage.uri(key)`
gives the absolute location the catalog records.
"""
from __future__ import annotations

import io
import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.ports import Storage


def write_parquet(storage: Storage, key: str, table: pa.Table) -> None:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    storage.write_bytes(key, sink.getvalue())


def data_keys(storage: Storage, prefix: str) -> list[str]:
    """The data files under a prefix. Athena's UNLOAD names its Parquet files without an extension, so every
    file counts except hidden ones ("." or "_" first, like Spark's _SUCCESS)."""
    return [key for key in storage.list_keys(prefix) if not key.rsplit("/", 1)[-1].startswith((".", "_"))]


def read_parquet(storage: Storage, prefix_or_key: str) -> pa.Table:
    """One file, or every data file under a prefix (in key order), as one table."""
    keys = [prefix_or_key] if prefix_or_key.endswith(".parquet") else data_keys(storage, prefix_or_key)
    if not keys:
        raise FileNotFoundError(f"no Parquet files under {storage.uri(prefix_or_key)}")
    tables = [pq.read_table(io.BytesIO(storage.read_bytes(key))) for key in keys]
    return pa.concat_tables(tables, promote_options="default")


def parquet_row_count(storage: Storage, prefix: str) -> int:
    """Rows under a prefix, from the Parquet footers (each file is still fetched whole from S3)."""
    return sum(pq.ParquetFile(io.BytesIO(storage.read_bytes(key))).metadata.num_rows
               for key in data_keys(storage, prefix))


def write_json(storage: Storage, key: str, document: Any) -> None:
    storage.write_bytes(key, json.dumps(document, indent=2, default=str).encode())


def read_json(storage: Storage, key: str) -> Any:
    return json.loads(storage.read_bytes(key))
