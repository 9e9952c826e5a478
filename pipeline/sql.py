"""Athena SQL from `athena_sql/`, run by Athena on AWS or by DuckDB locally (translated by sqlglot).

Templates take `{{name}}` parameters (validated: ISO dates and integers only, so nothing is injected) and
`{{sql:other}}` to inline another file.
"""
from __future__ import annotations

import datetime as dt
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Protocol

import duckdb
import pyarrow as pa
import sqlglot
import sqlglot.errors

from pipeline.catalog import Catalog
from pipeline.config import DATABASE, REPO_ROOT
from pipeline.errors import QueryError
from pipeline.storage import Storage, parquet_row_count
from pipeline.tables import TableDef, table_definitions

SQL_DIR = REPO_ROOT / "athena_sql"
PLACEHOLDER = re.compile(r"\{\{\s*(sql:)?([a-z_]+)\s*\}\}")
DUCKDB_TYPES = {"string": "VARCHAR", "bigint": "BIGINT", "double": "DOUBLE", "date": "DATE",
                "boolean": "BOOLEAN", "timestamp": "TIMESTAMP"}


def _literal(name: str, value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"SQL parameter {name!r} must be a date or an int, got {value!r}")


def render(template: str, **params: object) -> str:
    """The text of `athena_sql/<template>.sql` with its parameters filled in."""
    text = (SQL_DIR / f"{template}.sql").read_text()

    def substitute(match: re.Match) -> str:
        is_include, name = match.groups()
        if is_include:
            return render(name, **params).rstrip()
        if name not in params:
            raise KeyError(f"athena_sql/{template}.sql needs parameter {name!r}")
        return _literal(name, params[name])

    return PLACEHOLDER.sub(substitute, text)


class SqlEngine(Protocol):
    def query(self, sql: str) -> pa.Table: ...
    def unload(self, sql: str, prefix: str, partition_by: str | None = None) -> int: ...


def to_duckdb(sql: str) -> str:
    return sqlglot.transpile(sql, read="athena", write="duckdb")[0]


class DuckDbEngine:
    """Athena stand-in: each catalog table becomes a view over its partitions' Parquet files."""

    def __init__(self, catalog: Catalog, storage: Storage):
        self.catalog = catalog
        self.storage = storage

    def query(self, sql: str) -> pa.Table:
        with self._connected() as connection:
            return connection.sql(to_duckdb(sql)).to_arrow_table()

    def unload(self, sql: str, prefix: str, partition_by: str | None = None) -> int:
        """Write the query's result as Parquet under `prefix` (replacing what was there); return the row count."""
        self.storage.delete_prefix(prefix)
        target = Path(self.storage.uri(prefix))
        target.mkdir(parents=True, exist_ok=True)
        options = f", PARTITION_BY ({partition_by})" if partition_by else ""
        if not partition_by:
            target = target / "part-0.parquet"
        with self._connected() as connection:
            copied = connection.execute(f"COPY ({to_duckdb(sql)}) TO '{target}' (FORMAT parquet{options})")
            return int(copied.fetchone()[0])

    @contextmanager
    def _connected(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A fresh connection with the catalog's tables as views; engine errors become one QueryError."""
        try:
            with duckdb.connect() as connection:
                connection.execute("SET enable_progress_bar = false")
                connection.execute(f"CREATE SCHEMA {DATABASE}")
                for table in table_definitions().values():
                    connection.execute(f"CREATE VIEW {table.qualified_name} AS {self._view_sql(table)}")
                yield connection
        except (duckdb.Error, sqlglot.errors.SqlglotError) as error:
            raise QueryError(f"query failed: {error}") from error

    def _view_sql(self, table: TableDef) -> str:
        key, key_type = table.partition_keys[0]
        partitions = self.catalog.partitions(table)
        if not partitions:
            columns = ", ".join(f"CAST(NULL AS {DUCKDB_TYPES[type_]}) AS {name}"
                                for name, type_ in (*table.columns, *table.partition_keys))
            return f"SELECT {columns} WHERE false"
        column_list = ", ".join(name for name, _ in table.columns)
        selects = [f"SELECT {column_list}, CAST('{value}' AS {DUCKDB_TYPES[key_type]}) AS {key} "
                   f"FROM read_parquet('{location.rstrip('/')}/**/*.parquet')"
                   for value, location in partitions.items()]
        return "\nUNION ALL\n".join(selects)


class AthenaEngine:
    """Athena through awswrangler; results of `unload` land as Parquet under the prefix (UNLOAD)."""

    def __init__(self, storage: Storage, workgroup: str, boto3_session=None):
        self.storage = storage
        self.workgroup = workgroup
        self.session = boto3_session

    def query(self, sql: str) -> pa.Table:
        import awswrangler as wr

        frame = wr.athena.read_sql_query(sql, database=DATABASE, workgroup=self.workgroup, ctas_approach=False,
                                         boto3_session=self.session)
        return pa.Table.from_pandas(frame, preserve_index=False)

    def unload(self, sql: str, prefix: str, partition_by: str | None = None) -> int:
        import awswrangler as wr

        self.storage.delete_prefix(prefix)
        wr.athena.unload(sql, path=self.storage.uri(prefix), database=DATABASE, workgroup=self.workgroup,
                         file_format="PARQUET", compression="zstd",
                         partitioned_by=[partition_by] if partition_by else None, boto3_session=self.session)
        return parquet_row_count(self.storage, prefix)
