"""Object storage behind one small interface: a local directory or an S3 bucket.

Domain code speaks in keys relative to the warehouse root ("results/predictions/run_date=…/part-0.parquet");
`uri(key)` gives the absolute location the catalog records.
"""
from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq


class Storage(Protocol):
    root: str

    def uri(self, key: str) -> str: ...
    def key_of(self, uri: str) -> str: ...
    def write_bytes(self, key: str, data: bytes) -> None: ...
    def read_bytes(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def list_keys(self, prefix: str) -> list[str]: ...
    def delete_prefix(self, prefix: str) -> int: ...


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


class LocalStorage:
    def __init__(self, root: str | Path):
        self.root = str(Path(root).resolve())

    def uri(self, key: str) -> str:
        # Keep a folder's trailing slash, as S3 prefixes do, so keys round-trip through the catalog.
        return str(Path(self.root, key)) + ("/" if key.endswith("/") else "")

    def key_of(self, uri: str) -> str:
        return str(Path(uri).resolve().relative_to(self.root)) + ("/" if uri.endswith("/") else "")

    def write_bytes(self, key: str, data: bytes) -> None:
        # Write then rename, so a reader never sees half a file.
        path = Path(self.uri(key))
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
        partial.write_bytes(data)
        os.replace(partial, path)

    def read_bytes(self, key: str) -> bytes:
        return Path(self.uri(key)).read_bytes()

    def exists(self, key: str) -> bool:
        return Path(self.uri(key)).exists()

    def list_keys(self, prefix: str) -> list[str]:
        base = Path(self.uri(prefix))
        if base.is_file():
            return [prefix]
        if not base.is_dir():
            return []
        return sorted(self.key_of(str(path)) for path in base.rglob("*")
                      if path.is_file() and not path.name.startswith("."))

    def delete_prefix(self, prefix: str) -> int:
        path = Path(self.uri(prefix))
        if path.is_file():
            path.unlink()
            return 1
        if not path.is_dir():
            return 0
        removed = sum(1 for item in path.rglob("*") if item.is_file())
        shutil.rmtree(path)
        return removed


class S3Storage:
    def __init__(self, bucket: str, s3_client):
        self.bucket = bucket
        self.root = f"s3://{bucket}"
        self._s3 = s3_client

    def uri(self, key: str) -> str:
        return f"{self.root}/{key}"

    def key_of(self, uri: str) -> str:
        if not uri.startswith(self.root + "/"):
            raise ValueError(f"{uri} is not in bucket {self.bucket}")
        return uri[len(self.root) + 1:]

    def write_bytes(self, key: str, data: bytes) -> None:
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=data)

    def read_bytes(self, key: str) -> bytes:
        return self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def exists(self, key: str) -> bool:
        return bool(self._s3.list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1).get("KeyCount"))

    def list_keys(self, prefix: str) -> list[str]:
        paginator = self._s3.get_paginator("list_objects_v2")
        return sorted(item["Key"] for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix)
                      for item in page.get("Contents", []))

    def delete_prefix(self, prefix: str) -> int:
        keys = self.list_keys(prefix)
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            batch = [{"Key": key} for key in keys[start:start + 1000]]
            self._s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
        return len(keys)
