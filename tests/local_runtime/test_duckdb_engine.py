"""DuckDB standing in for Athena: the shipped Athena SQL, translated, over the catalog's partitions."""
import datetime as dt
import shutil

import pyarrow as pa
import pytest

from local_runtime.athena_sql import to_duckdb
from local_runtime.duckdb_engine import DuckDbEngine
from local_runtime.host import install_local_host
from pipeline.core.errors import QueryError
from pipeline.warehouse.objects import read_parquet, write_parquet
from pipeline.warehouse.tables import table
from tests.conftest import land_weeks
from tools.cli.app import main

ENDLESS = "WITH RECURSIVE up(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM up) SELECT count(*) AS n FROM up"


def test_athena_functions_are_translated_and_answered(services):
    sql = "SELECT date_add('day', 7, DATE '2026-01-05') AS next_week"
    assert to_duckdb(sql) != sql
    assert services.sql.query(sql).column(0)[0].as_py() == dt.date(2026, 1, 12)  # a DATE, as on Athena


def test_an_empty_table_answers_with_its_typed_columns(services):
    result = services.sql.query("SELECT * FROM engagement.predictions")
    assert result.num_rows == 0
    assert result.column_names == ["customer_id", "churn_probability", "risk_band", "model_version",
                                   "snapshot_date", "run_date"]


def test_partitions_become_a_column(services):
    land_weeks(services, {"a": [1, 2], "b": [0, None]})
    rows = services.sql.query("SELECT snapshot_date, count(*) AS n FROM engagement.snapshots "
                              "GROUP BY 1 ORDER BY 1").to_pylist()
    assert [(row["snapshot_date"].isoformat(), row["n"]) for row in rows] == [("2026-01-05", 2), ("2026-01-12", 1)]


def test_a_file_written_before_a_column_was_added_reads_it_as_null(services):
    """As Athena reads Parquet by name: an upgrade that adds a column keeps older partitions readable."""
    runs = table("runs")
    older = pa.table({"execution_name": ["e"], "status": ["SUCCEEDED"], "prepare_sets_seconds": [1.5]})
    write_parquet(services.storage, f"{runs.partition_prefix('2026-01-05')}e.parquet", older)
    services.catalog.put_partition(runs, "2026-01-05",
                                   services.storage.uri(runs.partition_prefix("2026-01-05")))
    rows = services.sql.query("SELECT status, prepare_sets_seconds, prepare_features_seconds "
                              "FROM engagement.runs").to_pylist()
    assert rows == [{"status": "SUCCEEDED", "prepare_sets_seconds": 1.5, "prepare_features_seconds": None}]


def test_unload_writes_parquet_by_partition_and_counts_rows(services):
    land_weeks(services, {"a": [1], "b": [0], "c": [3]})
    rows = services.sql.unload("SELECT customer_id, sessions_7d % 2 AS shard FROM engagement.snapshots",
                               "work/test/", partition_by="shard")
    assert rows == 3
    assert sorted({key.split("/")[2] for key in services.storage.list_keys("work/test/")}) == ["shard=0", "shard=1"]
    # a query in no order is streamed to its folders: the partition is the folder, as UNLOAD writes it
    assert read_parquet(services.storage, "work/test/shard=1/").sort_by("customer_id").to_pydict() == {"customer_id": ["a", "c"]}


def test_partitioned_unload_keeps_the_querys_row_order_in_every_file(services):
    """The training set's order decides the model; DuckDB's own PARTITION_BY writes in no fixed order once the
    result spans several of its row groups."""
    services.sql.unload("SELECT n, n % 2 AS part FROM range(600000) AS numbers(n) ORDER BY n DESC",
                        "work/ordered/", partition_by="part")
    for part in (0, 1):
        written = read_parquet(services.storage, f"work/ordered/part={part}/")
        assert written.column_names == ["n"]  # the partition is the folder, as UNLOAD writes it
        numbers = written.column("n").to_pylist()
        assert len(numbers) == 300_000 and numbers == sorted(numbers, reverse=True)


def test_a_filter_on_one_week_reads_only_that_partitions_files(services):
    land_weeks(services, {"a": [1, 2, 3], "b": [0, 1, 2]})
    weeks = services.catalog.partitions(table("snapshots"))
    assert len(weeks) == 3
    chosen = sorted(weeks)[1]
    for sql, params in [(f"SELECT count(*) AS n FROM engagement.snapshots WHERE snapshot_date = DATE '{chosen}'", {}),
                        ("SELECT count(*) AS n FROM engagement.snapshots WHERE snapshot_date = CAST(:week AS DATE)",
                         {"week": chosen})]:  # a bound parameter prunes too: the shipped queries use them
        plan = services.sql.explain(sql, params)
        assert plan.count("READ_PARQUET") == 1 and "Total Files Read: 1" in plan
        read = [folder for folder in weeks.values() if folder.rstrip("/") in plan]
        assert read == [weeks[chosen]]
        assert services.sql.query(sql, params).to_pylist() == [{"n": 2}]
    everything = services.sql.explain("SELECT count(*) AS n FROM engagement.snapshots")
    assert everything.count("READ_PARQUET") == 3


def test_a_bad_query_is_one_query_error(services):
    with pytest.raises(QueryError, match="query failed: .*nope"):
        services.sql.query("SELECT * FROM engagement.nope")


def test_a_data_directory_with_quotes_and_spaces_works(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_HOME", str(tmp_path / "it's a \"home\" ü"))
    services = install_local_host()
    land_weeks(services, {"a": [1], "b": [2]})
    assert services.sql.unload("SELECT customer_id FROM engagement.snapshots", "work/quoted/") == 2
    assert services.sql.query("SELECT count(*) FROM engagement.snapshots").column(0)[0].as_py() == 2


def test_a_copied_data_directory_reads_its_own_files(services, home, tmp_path, monkeypatch):
    land_weeks(services, {"a": [1], "b": [2]})
    copy = tmp_path / "copy"
    shutil.copytree(home, copy)
    shutil.rmtree(home)
    monkeypatch.setenv("PIPELINE_HOME", str(copy))
    moved = install_local_host()
    assert moved.sql.query("SELECT count(*) FROM engagement.snapshots").column(0)[0].as_py() == 2
    assert all(location.startswith(str(copy)) for location in moved.catalog.partitions(table("snapshots")).values())


def publish_predictions(services, week: str, rows: int = 2) -> str:
    folder = f"results/predictions/run_date={week}/execution=e/"
    predictions = pa.table({"customer_id": [f"c{i}" for i in range(rows)], "churn_probability": [0.5] * rows,
                            "risk_band": ["high"] * rows, "model_version": ["v"] * rows,
                            "snapshot_date": [dt.date.fromisoformat(week)] * rows},
                           schema=table("predictions").arrow_schema())
    write_parquet(services.storage, f"{folder}shard-00000.parquet", predictions)
    services.catalog.put_partition(table("predictions"), week, services.storage.uri(folder))
    return folder


def test_a_damaged_file_fails_only_the_queries_that_read_it_and_names_it(services):
    land_weeks(services, {"a": [1]})
    folder = publish_predictions(services, "2026-03-02")
    damaged = f"{folder}shard-00000.parquet"
    services.storage.write_bytes(damaged, services.storage.read_bytes(damaged)[:40])  # truncated
    assert services.sql.query("SELECT count(*) FROM engagement.snapshots").column(0)[0].as_py() == 1
    with pytest.raises(QueryError, match="shard-00000.parquet"):
        services.sql.query("SELECT count(*) FROM engagement.predictions")


def test_a_partition_whose_files_are_gone_is_named_with_the_repair(services):
    folder = publish_predictions(services, "2026-03-02")
    services.storage.delete_prefix(folder)
    with pytest.raises(QueryError, match="engagement.predictions partition run_date=2026-03-02 points at .* which "
                                         "holds no data files .* run that week again"):
        services.sql.query("SELECT * FROM engagement.predictions")


def test_a_query_that_never_ends_is_stopped_after_query_timeout_seconds(home, monkeypatch, capsys):
    monkeypatch.setenv("QUERY_TIMEOUT_SECONDS", "1")
    assert main(["query", ENDLESS]) == 2
    assert "query stopped after 1 s, the limit on a local query (QUERY_TIMEOUT_SECONDS=1; default 300)" in " ".join(
        capsys.readouterr().err.split())


@pytest.mark.parametrize("run", [lambda engine: engine.explain(ENDLESS),
                                 lambda engine: engine.unload(ENDLESS, "work/endless/")], ids=["explain", "unload"])
def test_explain_and_unload_are_stopped_after_the_limit_too(services, run):
    with pytest.raises(QueryError, match="query stopped after 1 s"):
        run(DuckDbEngine(services.catalog, services.storage, timeout_seconds=1))


def test_a_query_within_the_limit_is_answered(services):
    assert DuckDbEngine(services.catalog, services.storage, timeout_seconds=1).query("SELECT 1 AS one").num_rows == 1
