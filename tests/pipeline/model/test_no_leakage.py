"""No feature or label of a week depends on a later week than it may: a feature reads the row's own week and
earlier ones; a run reads nothing after its run_date. Changing a later week's values leaves them as they were."""
import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from pipeline.landing.contract_checks import validate_snapshot
from pipeline.landing.ingest import land_snapshot
from pipeline.stages.prepare_data import Window, scoring_set_sql, training_set_sql
from pipeline.warehouse.objects import read_parquet
from pipeline.warehouse.sql import render
from pipeline.warehouse.tables import table
from tests.conftest import keep_landed_features, week
from tools.synthetic.panel import land_synthetic_panel

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
    for name in ("sessions_7d", "purchases_7d", "minutes_7d", "revenue_7d"):
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
