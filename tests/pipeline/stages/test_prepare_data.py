"""PrepareData's checks of the landed weeks, before any label is built."""

import pytest

from local_runtime.host import local_services  # settings read again, after the variable is set
from pipeline.core.errors import DataQualityError
from pipeline.execution.identity import Run
from pipeline.stages.prepare_data import Window, check_snapshot_weeks, prepare_data
from pipeline.warehouse.tables import table
from tests.conftest import in_holdout, land_weeks, prepare_sets, week

CUSTOMERS = [f"c{i}" for i in range(40)]


def land(services, weeks: int, sessions=lambda customer, index: index % 2):
    land_weeks(services, {customer: [sessions(customer, index) for index in range(weeks)] for customer in CUSTOMERS})


def test_the_landed_weeks_up_to_the_run_are_counted(services):
    land(services, 6)
    weeks, checks = check_snapshot_weeks(services, Window(week(5), 2, training_weeks=8))
    assert [entry["snapshot_date"] for entry in weeks] == [week(index) for index in range(1, 6)]
    assert {entry["customers"] for entry in weeks} == {40}
    measured = {check.check_name: check for check in checks}
    assert measured["snapshot_weeks_available"].value == 5 and measured["snapshot_weeks_available"].threshold == ">= 3"
    assert measured["customers_vs_previous_week"].value == 1.0
    # index % 2 sessions: every customer active in week 4, none in week 5: warned, not refused
    fallen = measured.pop("active_share_change")
    assert (fallen.value, fallen.passed, fallen.severity) == (-1.0, False, "warning")
    assert all(check.passed and check.severity == "error" for check in measured.values())


def test_a_run_needs_a_labelled_week_a_horizon_before_it(services):
    land(services, 2)
    with pytest.raises(DataQualityError, match="2 weekly snapshot.* needs at least 3"):
        check_snapshot_weeks(services, Window(week(2), 2, training_weeks=8))


def test_an_unlanded_run_week_and_a_gap_are_named(services):
    land(services, 6)
    with pytest.raises(DataQualityError, match="no snapshot landed for run_date 2026-02-16"):
        check_snapshot_weeks(services, Window(week(7), 2, training_weeks=8))
    services.catalog.drop_partition(table("snapshots"), week(3).isoformat())
    with pytest.raises(DataQualityError, match=f"missing weeks: {week(3)}"):
        check_snapshot_weeks(services, Window(week(6), 2, training_weeks=8))


def test_prepare_data_writes_both_sets_and_lists_the_shards(services, monkeypatch):
    monkeypatch.setenv("INFERENCE_ROWS_PER_SHARD", "15")
    monkeypatch.setenv("RETAINED_SAMPLE_RATE", "1")  # every row: the count is known
    land(services, 6)
    run = Run(run_date=week(6), churn_horizon_weeks=2, model_version="v", execution_name="e")
    prepared = prepare_data(local_services(), run)
    assert prepared["scoring_rows"] == 40
    assert prepared["shard_count"] == 3 and prepared["shards"] == [0, 1, 2]
    held_out = sum(map(in_holdout, CUSTOMERS))
    assert 0 < held_out < 40
    # the holdout customers' newest labelled week only; every customer scored
    assert prepare_sets(services, run, prepared) == {"training_set": (40 - held_out) * 4 + held_out, "scoring_set": 40}


def test_a_week_that_jumps_is_refused_and_the_limits_are_settings(services, monkeypatch):
    land_weeks(services, {f"c{i}": [1, 1] if i < 10 else [None, 1] for i in range(40)})  # 10 customers, then 40
    with pytest.raises(DataQualityError, match="has 40 customers, more than 2 times the week before \\(10\\)"):
        check_snapshot_weeks(services, Window(week(2), 2, training_weeks=8))
    monkeypatch.setenv("WEEKLY_GROWTH_LIMIT", "5")
    with pytest.raises(DataQualityError, match="needs at least 3"):  # the size passes; too few weeks remain
        check_snapshot_weeks(local_services(), Window(week(2), 2, training_weeks=8))


def test_a_week_that_shrinks_is_refused(services):
    land_weeks(services, {f"c{i}": [1, 1] if i < 10 else [1, None] for i in range(40)})
    with pytest.raises(DataQualityError, match="has 10 customers, less than 50% of the week before \\(40\\)"):
        check_snapshot_weeks(services, Window(week(2), 1, training_weeks=8))


def test_a_jump_in_the_history_does_not_block_later_weeks(services):
    land_weeks(services, {f"c{i}": [1, 1, 1] if i < 10 else [None, 1, 1] for i in range(40)})  # 10, then 40, 40
    weeks, _ = check_snapshot_weeks(services, Window(week(3), 2, training_weeks=8))
    assert [entry["customers"] for entry in weeks] == [10, 40, 40]


def test_a_landed_file_changed_since_landing_is_refused_before_any_sql_reads_it(services, monkeypatch):
    land(services, 6)
    location = services.catalog.partitions(table("snapshots"))[week(4).isoformat()]
    key = f"{services.storage.key_of(location)}part-0.parquet"
    data = bytearray(services.storage.read_bytes(key))
    data[len(data) // 2] ^= 1
    services.storage.write_bytes(key, bytes(data))
    monkeypatch.setattr(services.sql, "query", lambda sql: pytest.fail("SQL read the damaged week"))
    run = Run(run_date=week(6), churn_horizon_weeks=2, model_version="v", execution_name="e")
    with pytest.raises(DataQualityError, match=f"ingest those weeks again.*\n  week {week(4)}: .*{key} changed "
                                               "since it was landed"):
        prepare_data(services, run)
