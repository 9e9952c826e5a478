"""Re-ingesting a week switches the catalog to the new files and retires the old ones: a query already reading
them finishes, `doctor` keeps them through the grace (RETIRED_FILES_DAYS), and past it `doctor --repair` and the
next run's Cleanup remove them."""
import datetime as dt
import json

import pytest

from local_runtime.duckdb_engine import DuckDbEngine
from pipeline.warehouse.retirement import retirement_key, retirements
from pipeline.warehouse.tables import table
from tests.conftest import week
from tests.end_to_end.published_weeks import landed_file, published_files, unchanged
from tools.cli.app import main
from tools.synthetic.panel import land_synthetic_panel

CUSTOMERS, WEEKS = 600, 10


@pytest.fixture
def published(services):
    """Ten landed weeks, week 9 published."""
    land_synthetic_panel(services, CUSTOMERS, WEEKS, seed=5, if_missing=False)
    assert main(["run", "--run-date", week(9).isoformat()]) == 0
    return services


def snapshot_folder(services, snapshot_date: dt.date) -> str:
    return services.storage.key_of(services.catalog.partitions(table("snapshots"))[snapshot_date.isoformat()])


def reingest(services, snapshot_date: dt.date, tmp_path) -> str:
    """Ingest the week again with 90% of its rows; return the key of the folder it replaced."""
    replaced = snapshot_folder(services, snapshot_date)
    path = landed_file(services, snapshot_date, tmp_path / f"{snapshot_date}.parquet", keep_share=0.9)
    assert main(["ingest", str(path), "--snapshot-date", snapshot_date.isoformat()]) == 0
    return replaced


def retired_days_ago(services, folder: str, days: int) -> None:
    """As if the folder had been retired `days` ago."""
    key = retirement_key(folder)
    record = json.loads(services.storage.read_bytes(key))
    retired_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)
    services.storage.write_bytes(key, json.dumps(record | {"retired_at": retired_at.isoformat()}).encode())


def test_a_query_reading_a_week_being_replaced_finishes_and_the_old_files_go_only_past_the_grace(
        published, tmp_path, monkeypatch, capsys):
    before = published_files(published)
    replaced_week, view_sql = week(5), DuckDbEngine._view_sql
    replaced = []

    def reingest_once_the_query_has_resolved_its_files(engine, definition):
        sql = view_sql(engine, definition)
        if definition.name == "snapshots" and not replaced:
            replaced.append(reingest(published, replaced_week, tmp_path))  # lands while the query is under way
        return sql

    monkeypatch.setattr(DuckDbEngine, "_view_sql", reingest_once_the_query_has_resolved_its_files)
    query = f"SELECT count(*) AS n FROM engagement.snapshots WHERE snapshot_date = DATE '{replaced_week}'"
    assert main(["query", query, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == str(CUSTOMERS)  # the files it started on
    monkeypatch.setattr(DuckDbEngine, "_view_sql", view_sql)
    assert main(["query", query, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == str(int(CUSTOMERS * 0.9))  # the switch is made

    old_folder = published.storage.uri(replaced[0])
    for command in (["doctor"], ["doctor", "--repair"]):  # within the grace: kept, and said
        assert main(command) == 0
        out = capsys.readouterr().out
        assert f"kept {old_folder}" in out and "replaced by a re-ingest" in out and "RETIRED_FILES_DAYS=7" in out
    assert published.storage.list_keys(replaced[0])

    retired_days_ago(published, replaced[0], 8)
    assert main(["doctor"]) == 1
    assert "past the 7-day grace" in capsys.readouterr().out
    assert main(["doctor", "--repair"]) == 0
    assert not published.storage.list_keys(replaced[0]) and not retirements(published.storage)

    past_grace, within_grace = reingest(published, week(6), tmp_path), reingest(published, week(7), tmp_path)
    retired_days_ago(published, past_grace, 8)
    latest = reingest(published, week(8), tmp_path)  # the next ingest removes what is past the grace
    assert not published.storage.list_keys(past_grace) and published.storage.list_keys(within_grace)
    assert sorted(retirement.folder for retirement in retirements(published.storage)) == sorted([within_grace, latest])
    assert main(["run", "--run-date", week(10).isoformat()]) == 0
    assert unchanged(before, published)
