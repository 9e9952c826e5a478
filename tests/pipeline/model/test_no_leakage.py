"""No feature or label of a week depends on a later week than it may: a feature reads the row's own week and
earlier ones; a run reads nothing after its run_date. Changing a later week's values leaves them as they were."""
import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from pipeline.landing.contract_checks import validate_snapshot
from pipeline.landing.event_mapping import read_mapping
from pipeline.landing.events import ingest_events, week_snapshot
from pipeline.landing.ingest import land_snapshot
from pipeline.model.features import LIFETIME_FEATURES
from pipeline.stages.prepare_data import Window, scoring_set_sql, training_set_sql
from pipeline.warehouse.objects import read_parquet
from pipeline.warehouse.sql import render
from pipeline.warehouse.tables import table
from tests.conftest import keep_landed_features, week
from tools.synthetic.panel import land_synthetic_panel
from tools.synthetic.sparse_events import sparse_event_log, write_event_log

WEEKS = 14
RUN_DATE = week(12)  # weeks 13 and 14 lie after it: a backfill of week 12 run today


@pytest.fixture
def panel(services):
    land_synthetic_panel(services, 400, WEEKS, seed=5, if_missing=False)
    return services


def change_week(services, snapshot_date: dt.date) -> None:
    """Land the week again with every activity count doubled plus one, and a customer's row dropped."""
    landed = services.catalog.partitions(table("snapshots"))[snapshot_date.isoformat()]
    rows = read_parquet(services.storage, services.storage.key_of(landed)).slice(1)
    for name in ("sessions_7d", "purchases_7d", "minutes_7d", "revenue_7d", "lifetime_purchases", "lifetime_revenue",
                 "lifetime_active_days", "days_since_first_purchase"):
        index = rows.schema.get_field_index(name)
        rows = rows.set_column(index, name, pc.add(pc.multiply(rows.column(name), 2), 1))
    land_snapshot(services, validate_snapshot(rows.to_pandas(), f"changed week {snapshot_date}")[0], snapshot_date)


def ordered(result: pa.Table) -> list[dict]:
    return result.sort_by([("snapshot_date", "ascending"), ("customer_id", "ascending")]).to_pylist()


def test_changing_a_week_changes_no_feature_of_an_earlier_week(panel):
    features = render("customer_weeks", first_week=week(1), run_date=week(WEEKS))
    changed = week(9)
    earlier = f"SELECT * FROM ({features}) AS f WHERE f.snapshot_date < DATE '{changed}'"
    before = ordered(panel.sql.query(earlier))
    assert before and any(row["active_weeks_4w"] for row in before)
    change_week(panel, changed)
    assert ordered(panel.sql.query(earlier)) == before
    later = f"SELECT * FROM ({features}) AS f WHERE f.snapshot_date = DATE '{changed}'"
    assert panel.sql.query(later).num_rows == 399  # the change did land: one row fewer that week


@pytest.mark.parametrize("changed_week", [13, 14])
def test_a_week_after_the_run_changes_neither_its_training_rows_nor_labels_nor_scoring_rows(panel, changed_week):
    window = Window(RUN_DATE, churn_horizon_weeks=4, training_weeks=8)
    queries = {"training": training_set_sql(window, panel.settings), "scoring": scoring_set_sql(RUN_DATE, 3)}
    keep_landed_features(panel)
    before = {name: ordered(panel.sql.query(sql)) for name, sql in queries.items()}
    assert {row["churned"] for row in before["training"]} == {0, 1}
    change_week(panel, week(changed_week))
    assert keep_landed_features(panel)[0] == week(changed_week).isoformat()  # the kept rows are made again
    assert {name: ordered(panel.sql.query(sql)) for name, sql in queries.items()} == before


def test_no_lifetime_feature_of_a_week_reads_a_later_event_or_a_later_week(services, tmp_path):
    """Each whole-history feature, on the sparse-purchase world landed as events: an event of the cut-off's own day
    or later changes no snapshot before it (rebuilt from all events after it landed), and a later week re-landed
    with other lifetime totals changes no earlier week's features."""
    mapping = read_mapping(write_event_log(sparse_event_log(400, 6, seed=4, history_days=120), tmp_path / "log.csv"))
    ingest_events(services, tmp_path / "log.csv", mapping)
    weeks = sorted(dt.date.fromisoformat(value) for value in services.catalog.partitions(table("snapshots")))
    changed = weeks[-3]
    features = render("customer_weeks", first_week=weeks[0], run_date=weeks[-1])
    earlier = f"SELECT * FROM ({features}) AS f WHERE f.snapshot_date < DATE '{changed}'"
    before = ordered(services.sql.query(earlier))
    snapshots_before = {week: week_snapshot(services, mapping, week).to_pylist() for week in weeks if week < changed}
    late = tmp_path / "late.csv"
    late.write_text("event_id,customer_id,occurred_at,event_name,amount\n"
                    f"late-1,S00000001,{changed}T00:00:00Z,order,999\nlate-2,S00000001,{changed}T00:00:00Z,visit,\n")
    ingest_events(services, late, mapping)
    assert {week: week_snapshot(services, mapping, week).to_pylist() for week in snapshots_before} == \
        snapshots_before
    change_week(services, changed)
    after = ordered(services.sql.query(earlier))
    for feature in LIFETIME_FEATURES:
        values = [row[feature] for row in before]
        assert any(value is not None for value in values), f"{feature}: never computed, so never tested"
        assert [row[feature] for row in after] == values, f"{feature} of an earlier week changed"
