"""ingest-events: an event log in, the contract's weekly snapshots out, each as of its cut-off in the mapping's time
zone; duplicates once; a late event rebuilds its weeks; a bad row refuses the file, naming row, column and rule."""
import datetime as dt
import textwrap
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.core.errors import ContractError
from pipeline.landing.event_mapping import KIND_COLUMNS, read_mapping
from pipeline.landing import events
from pipeline.landing.events import (CUSTOMER_WEEKS_PER_STATEMENT, WEEKS_PER_STATEMENT, ingest_events,
                                      StatementPlan, statement_plan, week_snapshot)
from pipeline.warehouse.publication import publish, recorded
from pipeline.warehouse.sql import render
from pipeline.warehouse.tables import table
from tools.cli.app import main

MONDAY = dt.date(2026, 3, 9)
MAPPING = """
time_zone = "Europe/Paris"

[columns]
customer_id = "user"
event_time = "at"
event_id = "id"
event_type = "type"
amount = "value"

[event_types]
session = ["open", "login"]
purchase = ["order"]
ignore = ["view"]
"""


@pytest.fixture
def mapping(tmp_path):
    def write(text: str = MAPPING):
        path = tmp_path / "mapping.toml"
        path.write_text(textwrap.dedent(text))
        return read_mapping(path)
    return write


def log(tmp_path, rows: list[str], name: str = "events.csv"):
    path = tmp_path / name
    path.write_text("id,user,at,type,value\n" + "\n".join(rows) + "\n")
    return path


def snapshot(services, week: dt.date) -> dict[str, dict]:
    rows = services.sql.query(f"SELECT * FROM engagement.snapshots WHERE snapshot_date = DATE '{week}'").to_pylist()
    return {row["customer_id"]: row for row in rows}


def test_a_week_holds_the_events_of_the_local_days_before_its_cut_off(services, mapping, tmp_path):
    landed = ingest_events(services, log(tmp_path, [
        "1,a,2026-03-08T23:59:59,open,",  # Sunday, Paris: the week of Monday 9 March
        "2,a,2026-03-09T00:00:00,open,",  # Monday 00:00, Paris: the next week
        "3,b,2026-03-08T22:59:59Z,open,",  # 23:59:59 in Paris: this week
        "4,b,2026-03-08T23:00:00Z,order,5",  # 00:00 on Monday in Paris: the next week
        "5,c,2026-03-15T12:00:00+01:00,login,",  # the last day: completes the week of 16 March
    ]), mapping())
    assert [week for week, _ in landed.weeks] == [MONDAY, MONDAY + dt.timedelta(days=7)]
    first, second = snapshot(services, MONDAY), snapshot(services, MONDAY + dt.timedelta(days=7))
    assert {customer: row["sessions_7d"] for customer, row in first.items()} == {"a": 1, "b": 1}
    assert first["b"]["purchases_7d"] == 0 and second["b"]["purchases_7d"] == 1 and second["b"]["revenue_7d"] == 5
    assert second["a"]["sessions_7d"] == 1 and second["a"]["sessions_30d"] == 2
    assert first["a"]["days_since_last_session"] == 1 and second["a"]["days_since_last_session"] == 7
    assert second["a"]["signup_date"] == dt.date(2026, 3, 8)  # its first event, as of each week


def test_an_event_sent_twice_counts_once_in_one_file_or_two(services, mapping, tmp_path):
    rows = ["1,a,2026-03-02T10:00:00,open,", "1,a,2026-03-02T10:00:00,open,", "2,a,2026-03-08T10:00:00,open,"]
    ingest_events(services, log(tmp_path, rows), mapping())
    ingest_events(services, log(tmp_path, rows[:1], "again.csv"), mapping())
    assert snapshot(services, MONDAY)["a"]["sessions_7d"] == 2


def test_of_an_id_sent_twice_in_one_file_the_first_copy_by_time_counts_and_other_ids_all_count(
        services, mapping, tmp_path):
    ingest_events(services, log(tmp_path, [
        "1,a,2026-03-05T10:00:00,order,7",  # the id's second copy in time: left out
        "2,b,2026-03-04T10:00:00,order,4",
        "1,a,2026-03-03T10:00:00,open,",  # its first copy: counted
        "3,b,2026-03-08T10:00:00,open,",
    ]), mapping())
    week = snapshot(services, MONDAY)
    assert (week["a"]["sessions_7d"], week["a"]["purchases_7d"]) == (1, 0)
    assert (week["b"]["sessions_7d"], week["b"]["purchases_7d"], week["b"]["revenue_7d"]) == (1, 1, 4)


def test_a_late_event_rebuilds_its_weeks_only(services, mapping, tmp_path):
    ingest_events(services, log(tmp_path, [f"{day},a,2026-03-{day:02d}T10:00:00,open," for day in range(1, 23)]),
                  mapping())
    before = {week: recorded(services.storage, "snapshots", week.isoformat()).locations["snapshots"]
              for week in (MONDAY - dt.timedelta(days=7), MONDAY, MONDAY + dt.timedelta(days=7))}
    landed = ingest_events(services, log(tmp_path, ["late,a,2026-03-03T10:00:00,order,9"], "late.csv"), mapping())
    assert [week for week, _ in landed.weeks] == [MONDAY, MONDAY + dt.timedelta(days=7),
                                                  MONDAY + dt.timedelta(days=14)]
    after = {week: recorded(services.storage, "snapshots", week.isoformat()).locations["snapshots"] for week in before}
    assert after[MONDAY - dt.timedelta(days=7)] == before[MONDAY - dt.timedelta(days=7)]  # before the event: kept
    assert after[MONDAY] != before[MONDAY] and snapshot(services, MONDAY)["a"]["purchases_7d"] == 1


def test_kinds_the_mapping_does_not_name_stay_empty_and_named_ones_count_zero(services, mapping, tmp_path):
    ingest_events(services, log(tmp_path, ["1,a,2026-03-02T10:00:00,order,3", "2,b,2026-03-08T10:00:00,open,"]),
                  mapping())
    week = snapshot(services, MONDAY)
    assert week["a"]["sessions_7d"] == 0 and week["a"]["purchases_7d"] == 1
    assert week["a"]["support_tickets_7d"] is None and week["a"]["minutes_7d"] is None  # not in the mapping
    assert week["b"]["revenue_30d"] == 0


@pytest.mark.parametrize("row, column, rule", [
    ("9,,2026-03-02T10:00:00,open,", "user", "is required"),
    (",a,2026-03-02T10:00:00,open,", "id", "is required"),
    ("9,a,yesterday,open,", "at", "is not a time"),
    ("9,a,2026-02-30T10:00:00,open,", "at", "is not a time"),
    ("9,a,,open,", "at", "is required"),
    ("9,a,2026-03-02T10:00:00,swim,", "type", "is not a type the mapping"),
    ("9,a,2026-03-02T10:00:00,order,-1", "value", "must be >= 0"),
    ("9,a,2026-03-02T10:00:00,order,ten", "value", "is not a number"),
])
def test_a_bad_row_refuses_the_file_naming_row_column_and_rule_and_lands_nothing(services, mapping, tmp_path, row,
                                                                                  column, rule):
    path = log(tmp_path, ["1,a,2026-03-02T10:00:00,open,", row])
    with pytest.raises(ContractError, match=rf"column '{column}': {rule}.*1 row\(s\), e\.g\. row 2:"):
        ingest_events(services, path, mapping())
    assert services.catalog.partitions(table("events")) == {}
    assert services.catalog.partitions(table("snapshots")) == {}


@pytest.mark.parametrize("text, problem", [
    (MAPPING.replace('purchase = ["order"]', 'sales = ["order"]'), "kinds the contract has no columns for: sales"),
    (MAPPING.replace('session = ["open", "login"]\n', ""), "must name the session types"),
    (MAPPING.replace('ignore = ["view"]', 'ignore = ["order"]'), "is under both purchase and ignore"),
    (MAPPING.replace("Europe/Paris", "Mars/Olympus"), "is not an IANA time zone"),
    (MAPPING.replace('[columns]', 'snapshot_weekday = "funday"\n[columns]'), "is not a day of the week"),
    (MAPPING.replace('customer_id = "user"\n', ""), "columns.customer_id"),
    (MAPPING.replace('[columns]', 'presence_days = 60\n[columns]'), "presence_days: Input should be greater than or "
                                                                    "equal to 90"),
])
def test_a_mapping_file_that_cannot_work_is_refused_naming_the_problem(mapping, text, problem):
    with pytest.raises(ContractError, match=problem):
        mapping(text)


def test_a_parquet_log_with_typed_times_and_numeric_ids(services, mapping, tmp_path):
    path = tmp_path / "events.parquet"
    pq.write_table(pa.table({
        "id": pa.array([1, 2], pa.int64()), "user": pa.array([7, 7], pa.int64()),
        "at": pa.array([dt.datetime(2026, 3, 8, 23, 30), dt.datetime(2026, 3, 2, 9)], pa.timestamp("ms")),
        "type": ["open", "order"], "value": pa.array([None, 4.5], pa.float64())}), path)
    ingest_events(services, path, mapping())
    assert snapshot(services, MONDAY)["7"]["sessions_7d"] == 1  # 23:30 on Sunday in Paris
    assert snapshot(services, MONDAY)["7"]["revenue_7d"] == 4.5


def test_a_log_whose_weekday_differs_from_the_landed_weeks_is_refused(services, mapping, tmp_path):
    ingest_events(services, log(tmp_path, ["1,a,2026-03-08T10:00:00,open,"]), mapping())
    with pytest.raises(ContractError, match="snapshot_weekday"):
        ingest_events(services, log(tmp_path, ["2,a,2026-03-10T10:00:00,open,"], "tuesday.csv"),
                      mapping(MAPPING.replace("[columns]", 'snapshot_weekday = "wednesday"\n[columns]')))
    assert len(services.catalog.partitions(table("events"))) == 1  # nothing of the refused one landed


def test_an_upload_is_recorded_so_a_lost_catalog_is_rebuilt_with_it(services, mapping, tmp_path, home):
    ingest_events(services, log(tmp_path, ["1,a,2026-03-08T10:00:00,open,"]), mapping())
    before = services.catalog.partitions(table("events"))
    (home / "catalog.json").unlink()
    assert main(["doctor", "--repair"]) == 0
    assert services.catalog.partitions(table("events")) == before
    assert services.sql.query("SELECT count(*) AS n FROM engagement.events").to_pylist() == [{"n": 1}]


def test_lifetime_totals_count_the_whole_history_before_the_cut_off_and_nothing_after(services, mapping, tmp_path):
    ingest_events(services, log(tmp_path, [
        "1,a,2025-06-02T10:00:00,order,10",  # nine months before: outside every window, inside the lifetime
        "2,a,2026-03-02T10:00:00,order,5",
        "3,a,2026-03-02T11:00:00,open,",
        "4,a,2026-03-09T10:00:00,order,100",  # the cut-off's own day: the next week's
        "5,a,2026-03-15T10:00:00,open,",
    ]), mapping())
    week = snapshot(services, MONDAY)["a"]
    assert (week["lifetime_purchases"], week["lifetime_revenue"], week["lifetime_active_days"]) == (2, 15.0, 1)
    assert week["days_since_first_purchase"] == (MONDAY - dt.date(2025, 6, 2)).days
    assert week["days_since_last_purchase"] == 7 and week["purchases_90d"] == 1
    assert week["signup_date"] == dt.date(2025, 6, 2)


@pytest.mark.parametrize("presence_days, present", [(None, {"b"}), (104, {"b"}), (105, {"a", "b"}), (400, {"a", "b"})])
def test_a_customer_silent_in_a_weeks_90_days_is_in_it_within_the_mappings_presence_days(
        services, mapping, tmp_path, presence_days, present):
    """A yearly buyer is scored in the months they are silent when the mapping's presence_days says so: with zero
    counts, and their whole history."""
    text = MAPPING.replace("[columns]", f"presence_days = {presence_days}\n[columns]") if presence_days else MAPPING
    ingest_events(services, log(tmp_path, [
        "1,a,2025-11-24T10:00:00,order,20",  # 105 days before MONDAY
        "2,a,2025-11-24T09:00:00,open,",
        "3,b,2026-03-08T10:00:00,open,",  # the log's last day: MONDAY is complete
    ]), mapping(text))
    week = snapshot(services, MONDAY)
    assert set(week) == present
    if "a" in present:
        a = week["a"]
        windows = ("sessions_7d", "sessions_90d", "purchases_90d", "revenue_90d", "active_days_30d")
        assert [a[name] for name in windows] == [0, 0, 0, 0.0, 0]
        assert (a["lifetime_purchases"], a["lifetime_revenue"], a["lifetime_active_days"]) == (1, 20.0, 1)
        assert (a["days_since_last_session"], a["days_since_last_purchase"], a["days_since_first_purchase"]) \
            == (105, 105, 105)
        assert a["signup_date"] == dt.date(2025, 11, 24)


def test_the_same_log_ingested_again_with_a_longer_presence_rebuilds_its_weeks_counting_each_event_once(
        services, mapping, tmp_path):
    rows = ["1,a,2025-11-24T10:00:00,open,", "2,a,2025-11-30T10:00:00,open,", "3,b,2026-03-08T10:00:00,open,"]
    ingest_events(services, log(tmp_path, rows), mapping())
    assert set(snapshot(services, MONDAY)) == {"b"}
    ingest_events(services, log(tmp_path, rows, "again.csv"),
                  mapping(MAPPING.replace("[columns]", "presence_days = 120\n[columns]")))
    a = snapshot(services, MONDAY)["a"]
    assert (a["sessions_90d"], a["lifetime_active_days"], a["days_since_last_session"]) == (0, 2, 99)


def test_a_customer_without_a_purchase_has_no_repeat_purchase_features(services, mapping, tmp_path):
    ingest_events(services, log(tmp_path, ["1,a,2026-03-08T10:00:00,open,"]), mapping())
    features = render("customer_weeks", first_week=MONDAY, run_date=MONDAY)
    (row,) = services.sql.query(f"SELECT * FROM ({features}) AS f").to_pylist()
    assert row["lifetime_purchases"] == 0 and row["repeat_purchases"] is None and row["mean_spend"] is None
    assert row["active_day_share"] > 0


@pytest.mark.parametrize("customer_weeks, presence_days, plan", [
    (CUSTOMER_WEEKS_PER_STATEMENT, 90, StatementPlan(13, 1)), (1_000, 90, StatementPlan(3, 1)),
    (100, 90, StatementPlan(1, 4)), (CUSTOMER_WEEKS_PER_STATEMENT, 150, StatementPlan(13, 1)),
    (100, 150, StatementPlan(1, 4))],
    ids=["13 a statement", "fewer", "a week in customer buckets", "presence 150", "presence 150 in buckets"])
def test_weeks_built_together_are_the_weeks_built_one_at_a_time(services, mapping, tmp_path, monkeypatch,
                                                                 customer_weeks, presence_days, plan):
    """One statement builds up to 13 weeks (fewer for more customers, or a share of a week's customers) from the
    history before them plus what each week adds: every week of a long, sparse log comes out as one statement for
    that week alone and all its customers builds it, from the whole history. So do the silent customers a longer
    presence keeps."""
    monkeypatch.setattr(events, "CUSTOMER_WEEKS_PER_STATEMENT", customer_weeks)
    rng = np.random.default_rng(4)
    start, rows = dt.datetime(2025, 9, 1), []
    for number in range(400):
        kinds = ("login", "order", "order", "view")
        for event in range(int(rng.integers(1, 12))):
            at = start + dt.timedelta(minutes=int(rng.integers(0, 200 * 24 * 60)))  # 200 days: 28 weeks, 3 batches
            kind = kinds[int(rng.integers(0, len(kinds)))]
            rows.append(f"{number}-{event},c{number},{at:%Y-%m-%dT%H:%M:%S},{kind},"
                        + (f"{rng.integers(1, 500) / 7:.4f}" if kind == "order" else ""))
    rows += rows[::17]  # some sent twice
    event_mapping = mapping(MAPPING.replace("[columns]", f"presence_days = {presence_days}\n[columns]"))
    landed = ingest_events(services, log(tmp_path, rows), event_mapping)
    assert len(landed.weeks) > 2 * WEEKS_PER_STATEMENT
    assert statement_plan(services, landed.weeks[-1][0], presence_days) == plan
    monkeypatch.setattr(events, "CUSTOMER_WEEKS_PER_STATEMENT", CUSTOMER_WEEKS_PER_STATEMENT)
    silent = 0
    for week, _ in landed.weeks:
        alone = week_snapshot(services, event_mapping, week).to_pylist()
        assert snapshot(services, week) == {row["customer_id"]: row | {"snapshot_date": week} for row in alone}, week
        silent += sum(row["sessions_90d"] == row["purchases_90d"] == 0 for row in alone)
    assert (silent > 0) == (presence_days > 90)


def test_every_kind_the_mapping_names_fills_its_columns_and_only_those(services, mapping, tmp_path):
    """athena_sql/event_weeks.sql fills the kinds the mapping names (pipeline.landing.events.WeekColumns): one
    event of each fills each of its count columns with 1; a kind left out of the mapping leaves its columns empty."""
    kinds = [kind for kind in KIND_COLUMNS if kind != "share"]
    text = MAPPING.split("[event_types]")[0] + "[event_types]\n" + "\n".join(f'{kind} = ["{kind}"]' for kind in kinds)
    ingest_events(services, log(tmp_path, [f"{number},a,2026-03-08T10:00:00,{kind},1"
                                           for number, kind in enumerate(kinds)]), mapping(text))
    week = snapshot(services, MONDAY)["a"]
    for kind in kinds:
        prefix, windows = KIND_COLUMNS[kind]
        assert [week[f"{prefix}_{window}"] for window in windows] == [1] * len(windows), kind
    assert week["social_shares_7d"] is None and week["social_shares_30d"] is None
    assert (week["revenue_7d"], week["lifetime_purchases"], week["active_days_7d"]) == (1.0, 1, 1)


def test_an_upload_without_its_days_gets_them_from_the_next_ingest_in_landing_order(services, mapping, tmp_path):
    """An ingest interrupted after its events landed (or an upload landed before engagement.event_days existed) has
    no days: the next ingest makes them first, so its events count, and count once."""
    ingest_events(services, log(tmp_path, ["1,a,2026-03-02T10:00:00,open,", "2,a,2026-03-03T10:00:00,open,"]),
                  mapping())
    (upload,) = services.catalog.partitions(table("event_days"))
    record = recorded(services.storage, "events", upload)
    services.catalog.drop_partition(table("event_days"), upload)
    publish(services, replace(record, locations={"events": record.locations["events"]}))
    landed = ingest_events(services, log(tmp_path, ["2,a,2026-03-03T10:00:00,open,", "3,a,2026-03-08T10:00:00,open,"],
                                         "next.csv"), mapping())
    assert len(services.catalog.partitions(table("event_days"))) == 2
    assert snapshot(services, MONDAY)["a"]["sessions_7d"] == 3 and landed.weeks[0][0] == MONDAY


def test_an_upload_of_events_all_sent_before_has_empty_days_and_changes_no_count(services, mapping, tmp_path):
    rows = ["1,a,2026-03-02T10:00:00,open,", "2,a,2026-03-08T10:00:00,open,"]
    ingest_events(services, log(tmp_path, rows), mapping())
    ingest_events(services, log(tmp_path, rows, "again.csv"), mapping())
    days = services.sql.query("SELECT upload, count(*) AS n FROM engagement.event_days GROUP BY upload").to_pylist()
    assert [row["n"] for row in days] == [2]  # the second upload's partition holds no row
    assert len(services.catalog.partitions(table("event_days"))) == 2
    assert snapshot(services, MONDAY)["a"]["sessions_7d"] == 2


def test_a_day_two_uploads_both_have_is_one_active_day(services, mapping, tmp_path):
    ingest_events(services, log(tmp_path, ["1,a,2026-03-03T10:00:00,open,", "2,a,2026-03-08T10:00:00,open,"]),
                  mapping())
    ingest_events(services, log(tmp_path, ["3,a,2026-03-03T15:00:00,login,"], "late.csv"), mapping())
    week = snapshot(services, MONDAY)["a"]
    assert (week["sessions_7d"], week["active_days_7d"], week["lifetime_active_days"]) == (3, 2, 2)
