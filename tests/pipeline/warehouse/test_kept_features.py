"""Kept feature rows (engagement.features): each week computed once, made again only when what it was made from
changes, and the same rows as computing every week from the snapshots."""
import json

import pyarrow as pa
import pytest

from pipeline.landing.remove_week import remove_landed_week
from pipeline.warehouse import kept_features
from pipeline.warehouse.kept_features import FeaturesNotKeptError, keep, stale_weeks
from pipeline.warehouse.objects import write_parquet
from pipeline.warehouse.publication import recorded
from pipeline.warehouse.retirement import retirements
from pipeline.warehouse.sql import render
from pipeline.warehouse.tables import GLUE_DIR, table
from tests.conftest import keep_landed_features, land_weeks, week

PANEL = {"A": [3, 0, 0, 1, 0, 0, 5, 2], "B": [2, 2, 1, None, None, None, 4, 4], "C": [None, None, 5, 5, 5, 5, 5, 5]}
ALL_WEEKS = [week(index).isoformat() for index in range(1, 9)]


def kept_rows(services) -> list[dict]:
    return services.sql.query("SELECT * FROM engagement.features ORDER BY snapshot_date, customer_id").to_pylist()


def test_each_week_is_computed_once_and_a_new_week_alone_next(services):
    land_weeks(services, {name: sessions[:7] for name, sessions in PANEL.items()})
    assert keep_landed_features(services, "first") == ALL_WEEKS[:7]
    assert keep_landed_features(services, "again") == []  # nothing stale: nothing computed
    land_weeks(services, PANEL)  # lands every week again: all are new landings
    assert keep_landed_features(services, "relanded") == ALL_WEEKS
    assert stale_weeks(services, [week(index) for index in range(1, 9)]) == {}


def test_the_kept_rows_are_the_rows_computed_from_the_snapshots(services):
    land_weeks(services, PANEL)
    keep_landed_features(services)
    computed = services.sql.query(f"SELECT * FROM ({render('customer_weeks', first_week=week(1), run_date=week(8))})"
                                  " ORDER BY snapshot_date, customer_id").to_pylist()
    kept = kept_rows(services)
    assert {row.pop("feature_version") for row in kept} == {kept_features.feature_version()}
    assert kept == computed


def test_a_relanded_week_makes_itself_and_the_three_after_it_stale_only(services):
    land_weeks(services, PANEL)
    keep_landed_features(services)
    record = recorded(services.storage, "features", week(5).isoformat())
    assert set(record.sources) == {"feature_version", *ALL_WEEKS[1:5]}  # its week and the 3 it looks back to
    land_weeks(services, {"A": [9] * 3})  # weeks 1 to 3 landed again
    assert keep_landed_features(services, "after-reingest") == ALL_WEEKS[:6]  # week 3 is read up to week 6
    assert [row["sessions_7d_prev_2w"] for row in kept_rows(services)
            if row["customer_id"] == "A" and row["snapshot_date"] == week(5)] == [9]


def test_new_feature_definitions_make_every_week_stale(services, monkeypatch):
    land_weeks(services, PANEL)
    keep_landed_features(services)
    monkeypatch.setattr(kept_features, "feature_version", lambda: "next-definitions")
    assert list(stale_weeks(services, [week(index) for index in range(1, 9)])) == ALL_WEEKS


def test_a_kept_week_whose_files_are_gone_is_computed_again(services):
    land_weeks(services, PANEL)
    keep_landed_features(services)
    services.storage.delete_prefix(recorded(services.storage, "features", week(4).isoformat()).locations["features"])
    assert keep_landed_features(services, "repaired") == [week(4).isoformat()]
    assert len(kept_rows(services)) == sum(value is not None for sessions in PANEL.values() for value in sessions)


def test_recomputing_retires_the_replaced_folder_and_records_the_new_one(services):
    land_weeks(services, PANEL)
    keep_landed_features(services, "first")
    land_weeks(services, {"A": [1] * 8})
    keep_landed_features(services, "second")
    week_1 = week(1).isoformat()
    assert services.catalog.partitions(table("features"))[week_1].endswith("/execution=second/")
    assert recorded(services.storage, "features", week_1).published_by == "second"
    retired = {retirement.folder for retirement in retirements(services.storage) if retirement.table == "features"}
    assert f"features/snapshot_date={week_1}/execution=first/" in retired


def test_a_removed_week_takes_its_kept_rows_with_it(services):
    land_weeks(services, PANEL)
    keep_landed_features(services)
    remove_landed_week(services, week(8))
    assert week(8).isoformat() not in services.catalog.partitions(table("features"))
    assert recorded(services.storage, "features", week(8).isoformat()) is None


def test_a_week_the_unload_left_empty_is_refused_and_nothing_is_kept(services):
    land_weeks(services, PANEL)
    with pytest.raises(FeaturesNotKeptError, match=f"no rows for landed week {week(2)}"):
        keep(services, "work/empty/", "e", {week(2).isoformat(): {"feature_version": "v"}})
    assert services.catalog.partitions(table("features")) == {}


def test_weeks_are_kept_on_s3_and_glue_by_server_side_copies(aws):
    unloaded = "work/run_date=2026-01-05/execution=e/features/attempt=0/"
    rows = pa.table({"customer_id": ["a"], "feature_version": ["v"]})
    write_parquet(aws.storage, f"{unloaded}snapshot_date=2026-01-05/20260105_part0", rows)
    folders = keep(aws, unloaded, "e", {"2026-01-05": {"feature_version": "v"}})
    assert folders == {"2026-01-05": "features/snapshot_date=2026-01-05/execution=e/"}
    assert aws.storage.list_keys(folders["2026-01-05"]) == [f"{folders['2026-01-05']}20260105_part0"]
    assert aws.catalog.partitions(table("features")) == {"2026-01-05": aws.storage.uri(folders["2026-01-05"])}


def test_the_features_table_lists_every_column_the_sql_writes(services):
    land_weeks(services, PANEL)
    select = kept_features.features_sql([week(8).isoformat()])
    written = services.sql.query(f"SELECT * FROM ({select})").schema
    document = json.loads((GLUE_DIR / "features.json").read_text())
    assert [column["name"] for column in document["columns"]] + ["snapshot_date"] == written.names
    assert table("features").arrow_schema() == pa.schema([field for field in written if field.name != "snapshot_date"])
