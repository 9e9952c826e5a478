"""The SqlEngine port on DuckDB: the local stand-in for Athena.

The shipped Athena SQL is translated by `local_runtime.athena_sql`; each catalog table becomes a view over its
partitions' files. A filter on the partition column reads only that partition's files: each partition is one
branch of the view, with its value as a constant, and DuckDB drops the branches the filter rules out before it
scans (`explain` shows the files read).
"""
from __future__ import annotations

import functools
import json
import os
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
import sqlglot.errors
import sqlglot.expressions

from local_runtime import athena_sql
from pipeline.core.errors import QueryError
from pipeline.core.settings import DATABASE, DEFAULT_QUERY_TIMEOUT_SECONDS
from pipeline.warehouse.ports import Catalog, Storage
from pipeline.warehouse.publication import REPAIR_COMMAND, group_of, publications
from pipeline.warehouse.sql import parse_unload
from pipeline.warehouse.tables import TableDef, table_definitions

# Athena is not in our process: locally it is, so bound it (DuckDB spills to disk beyond this) to keep every
# process of a run under the 4 GB a Fargate task or the Lambda would have.
MEMORY_LIMIT = "3GB"
SPILL_DIRECTORY = str(Path(tempfile.gettempdir()) / "engagement-pipeline-duckdb")
# Set to a file path, every statement appends a JSON line with the bytes DuckDB read from files for it: the local
# measure of what Athena bills as data scanned (`make bench` reports it per run).
SCAN_LOG_ENV = "PIPELINE_SCAN_LOG"
DUCKDB_TYPES = {"string": "VARCHAR", "bigint": "BIGINT", "double": "DOUBLE", "date": "DATE",
                "boolean": "BOOLEAN", "timestamp": "TIMESTAMP"}


def _tables_read_by(statement: sqlglot.expressions.Expression) -> list[TableDef]:
    """The catalog's tables the (Athena) statement names."""
    named = {table.name for table in statement.find_all(sqlglot.expressions.Table) if table.db == DATABASE}
    return [definition for name, definition in table_definitions().items() if name in named]


Params = dict[str, str | int | float]
READ_ONLY_STATEMENTS = (sqlglot.expressions.Select, sqlglot.expressions.Union, sqlglot.expressions.Intersect,
                        sqlglot.expressions.Except)


def _only_select(sql: str) -> sqlglot.expressions.Expression:
    """The query's one SELECT (CTEs, UNION...); anything that writes, loads or configures is refused (as an
    analyst's read-only Athena access would refuse it)."""
    statements = athena_sql.parse(sql)
    if len(statements) != 1 or not isinstance(statements[0], READ_ONLY_STATEMENTS):
        kinds = ", ".join(type(statement).__name__.upper() for statement in statements) or "nothing"
        raise QueryError(f"only one SELECT is answered here (read-only), got: {kinds}")
    return statements[0]


def _check_parameters(statement: sqlglot.expressions.Expression, params: Params) -> None:
    named = {placeholder.name for placeholder in statement.find_all(sqlglot.expressions.Placeholder)}
    if missing := sorted(named - set(params)):
        raise QueryError(f"the query needs parameter(s) {', '.join(missing)}: give each as --param NAME=VALUE")
    if unused := sorted(set(params) - named):
        raise QueryError(f"parameter(s) {', '.join(unused)} not used by the query (it names: "
                         f"{', '.join(sorted(named)) or 'none'})")


def sql_string(text: str) -> str:
    """`text` as an SQL string literal: a path may hold quotes."""
    return "'" + text.replace("'", "''") + "'"


class DuckDbEngine:
    """Athena stand-in: each catalog table becomes a view over its partitions' Parquet files."""

    def __init__(self, catalog: Catalog, storage: Storage, timeout_seconds: int = DEFAULT_QUERY_TIMEOUT_SECONDS):
        self.catalog = catalog
        self.storage = storage
        self.timeout_seconds = timeout_seconds

    def query(self, sql: str, params: Params | None = None) -> pa.Table:
        """One read-only SELECT, its `:name` parameters bound (never pasted into the text)."""
        statement = _only_select(sql)
        _check_parameters(statement, params or {})
        with self._connected(statement) as connection:
            result = connection.sql(athena_sql.to_duckdb(statement), params=params or None).to_arrow_table()
            _log_scan(connection, "query")
            return result

    def explain(self, sql: str, params: Params | None = None) -> str:
        """The query run with DuckDB's profiler: its plan, with the files each scan read."""
        statement = _only_select(sql)
        _check_parameters(statement, params or {})
        with self._connected(statement) as connection:
            plan = connection.execute(f"EXPLAIN ANALYZE {athena_sql.to_duckdb(statement)}", params or None)
            return plan.fetchall()[0][1]

    def unload(self, sql: str, prefix: str, partition_by: str | None = None) -> int:
        """Write the query's result as Parquet under `prefix` (replacing what was there); return the row count.

        With `partition_by`, one folder per value, as UNLOAD writes. A query that orders its rows keeps that order
        in each file (DuckDB's own PARTITION_BY writes from several threads in no fixed order, and a training set
        in a different order each time gives a different model), at the price of holding the result in a table
        first; one that does not is streamed to its folders (ingest-events' weeks: more than memory holds)."""
        self.storage.delete_prefix(prefix)
        target = Path(self.storage.uri(prefix))
        target.mkdir(parents=True, exist_ok=True)
        (statement,) = athena_sql.parse(sql)
        with self._connected(statement) as connection:
            if not partition_by:
                return self._copy(connection, athena_sql.to_duckdb(statement), target / "part-0.parquet")
            if not statement.args.get("order"):
                return self._copy(connection, athena_sql.to_duckdb(statement), target, partition_by)
            connection.execute(f"CREATE TEMP TABLE unloaded AS {athena_sql.to_duckdb(statement)}")
            _log_scan(connection, "unload")  # the copies after it read that table, in memory
            values = connection.execute(f"SELECT DISTINCT {partition_by} FROM unloaded ORDER BY 1").fetchall()
            return sum(self._copy(connection, f"SELECT * EXCLUDE ({partition_by}) FROM unloaded "
                                              f"WHERE {partition_by} = {sql_string(str(value))}",
                                  target / f"{partition_by}={value}" / "data_0.parquet")
                       for (value,) in values)

    def run_unload(self, statement: str) -> int:
        """An UNLOAD statement as the state machine composes it (pipeline.warehouse.sql.UNLOAD_TEMPLATE), as Athena runs
        it: into its folder, which must be empty."""
        select, location, partition_by = parse_unload(statement)
        prefix = self.storage.key_of(location)
        if self.storage.list_keys(prefix):
            raise FileExistsError(f"HIVE_PATH_ALREADY_EXISTS: UNLOAD needs an empty folder, {location} is not")
        return self.unload(select, prefix, partition_by)

    @staticmethod
    def _copy(connection: duckdb.DuckDBPyConnection, query: str, path: Path, partition_by: str | None = None) -> int:
        path.parent.mkdir(parents=True, exist_ok=True)
        options = f"FORMAT parquet, PARTITION_BY ({partition_by})" if partition_by else "FORMAT parquet"
        rows = int(connection.execute(f"COPY ({query}) TO {sql_string(str(path))} ({options})").fetchone()[0])
        _log_scan(connection, "unload")
        return rows

    @contextmanager
    def _connected(self, statement: sqlglot.expressions.Expression) -> Iterator[duckdb.DuckDBPyConnection]:
        """A fresh connection with the tables `statement` reads as views (only those, so a damaged table fails only
        the queries that read it, as on Athena); engine errors become one QueryError."""
        try:
            with duckdb.connect() as connection:
                connection.execute("SET enable_progress_bar = false")
                connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
                connection.execute(f"SET temp_directory = {sql_string(SPILL_DIRECTORY)}")
                if os.environ.get(SCAN_LOG_ENV):
                    connection.execute("PRAGMA enable_profiling = 'no_output'")
                connection.execute(f"CREATE SCHEMA {DATABASE}")
                for table in _tables_read_by(statement):
                    connection.execute(f"CREATE VIEW {table.qualified_name} AS {self._view_sql(table)}")
                self._sandbox(connection)
                with self._time_limited(connection):
                    yield connection
        except (duckdb.Error, sqlglot.errors.SqlglotError) as error:
            raise QueryError(f"query failed: {error}") from error

    @contextmanager
    def _time_limited(self, connection: duckdb.DuckDBPyConnection) -> Iterator[None]:
        """Interrupt what runs on `connection` once timeout_seconds have passed (Athena's workgroups stop a query
        too; DuckDB here has no limit of its own), and say which limit stopped it."""
        stopped = threading.Event()

        def stop() -> None:
            stopped.set()
            connection.interrupt()

        timer = threading.Timer(self.timeout_seconds, stop)
        timer.start()
        try:
            yield
        except duckdb.Error as error:
            if stopped.is_set():
                raise QueryError(f"query stopped after {self.timeout_seconds} s, the limit on a local query "
                                 f"(QUERY_TIMEOUT_SECONDS={self.timeout_seconds}; default "
                                 f"{DEFAULT_QUERY_TIMEOUT_SECONDS}): narrow the query, or raise the limit") from error
            raise
        finally:
            timer.cancel()

    def _sandbox(self, connection: duckdb.DuckDBPyConnection) -> None:
        """No file outside the warehouse (and DuckDB's spill folder), no extension, and no way to undo this."""
        allowed = ", ".join(sql_string(folder.rstrip("/") + "/") for folder in (self.storage.root, SPILL_DIRECTORY))
        connection.execute(f"SET allowed_directories = [{allowed}]")
        connection.execute("SET enable_external_access = false")
        connection.execute("SET lock_configuration = true")

    def _refuse_a_lost_catalog(self, table: TableDef) -> None:
        """No partition listed, yet publication records name some: an empty answer would be a wrong one. (Records
        written before a table was added do not name it: that table is simply empty.)"""
        group = group_of(table)
        if group and any(table.name in record.locations for record in publications(self.storage, group)):
            raise QueryError(f"the catalog lists no partition of {table.qualified_name}, yet storage records "
                             f"published partitions of it: the catalog was lost. Rebuild it: {REPAIR_COMMAND}")

    def _view_sql(self, table: TableDef) -> str:
        key, key_type = table.partition_keys[0]
        partitions = self.catalog.partitions(table)
        # Listed here, not globbed by DuckDB, whose pattern would read a [ or a * in the data directory's path
        files = {value: sorted(map(str, Path(location).glob("**/*.parquet"))) for value, location in partitions.items()}
        for value, location in partitions.items():
            if not files[value]:
                repair = "ingest that week again" if table.name == "snapshots" else "run that week again"
                raise QueryError(
                    f"{table.qualified_name} partition {key}={value} points at {location}, which holds no data "
                    f"files (deleted or moved?). Repair: {repair}, which replaces the partition")
        if not partitions:
            self._refuse_a_lost_catalog(table)
            columns = ", ".join(f"CAST(NULL AS {DUCKDB_TYPES[type_]}) AS {name}"
                                for name, type_ in (*table.columns, *table.partition_keys))
            return f"SELECT {columns} WHERE false"
        partition = {value: f"CAST({sql_string(value)} AS {DUCKDB_TYPES[key_type]}) AS {key}" for value in partitions}
        selects = [f"SELECT {_columns_of(table, written)}, {partition[value]} "
                   f"FROM read_parquet([{', '.join(map(sql_string, paths))}])"
                   for value in partitions for written, paths in _by_columns(files[value]).items()]
        return "\nUNION ALL\n".join(selects)


def _columns_of(table: TableDef, written: frozenset[str]) -> str:
    """The table's columns as a file holds them, by name as Athena reads Parquet: one the file was written without
    (before the column was added) reads as null."""
    return ", ".join(name if name in written else f"CAST(NULL AS {DUCKDB_TYPES[type_]}) AS {name}"
                     for name, type_ in table.columns)


def _by_columns(paths: list[str]) -> dict[frozenset[str], list[str]]:
    """The files grouped by the columns they hold (one group, unless the table gained a column between them)."""
    groups: dict[frozenset[str], list[str]] = {}
    for path in paths:
        stat = os.stat(path)
        groups.setdefault(_written_columns(path, stat.st_mtime_ns, stat.st_size), []).append(path)
    return groups


@functools.lru_cache(maxsize=65_536)
def _written_columns(path: str, modified_ns: int, size: int) -> frozenset[str]:
    """The columns of a Parquet file, read from its footer once for each version of the file."""
    try:
        return frozenset(pq.read_schema(path).names)
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise QueryError(f"query failed: {path} does not read as Parquet ({error})") from None


def _log_scan(connection: duckdb.DuckDBPyConnection, what: str) -> None:
    """Append the bytes the statement just run read from files to the scan log, if one is set (SCAN_LOG_ENV)."""
    if path := os.environ.get(SCAN_LOG_ENV):
        scanned = json.loads(connection.get_profiling_information(format="json"))["io"]["total_bytes_read"]
        with open(path, "a") as log:
            log.write(json.dumps({"statement": what, "bytes_read": scanned}) + "\n")
