"""The weeks published before a run: the newest earlier week's rows, and every published week's metrics row."""
import datetime as dt
import logging

from pipeline.results.published_weeks import previous_week, published_metrics
from pipeline.warehouse.layout import attempt_prefix
from pipeline.warehouse.objects import write_parquet
from pipeline.warehouse.tables import table

WEEKS = [dt.date(2026, 2, 16), dt.date(2026, 2, 23), dt.date(2026, 3, 2)]


def publish_metrics(services, week: dt.date, auc: float, execution: str = "e") -> None:
    prefix = attempt_prefix("model_metrics", week, execution)
    write_parquet(services.storage, f"{prefix}part-0.parquet", table("model_metrics").rows_table(
        [{"model_version": f"v-{week}", "auc": auc, "execution_name": execution}]))
    services.catalog.put_partition(table("model_metrics"), week.isoformat(), services.storage.uri(prefix))


def test_nothing_published_before_the_first_week(services):
    assert previous_week(services, "model_metrics", WEEKS[0]) is None
    publish_metrics(services, WEEKS[1], 0.8)
    assert previous_week(services, "model_metrics", WEEKS[0]) is None  # a later week is no comparison
    assert previous_week(services, "model_metrics", WEEKS[1]) is None  # nor the week itself


def test_the_previous_week_is_the_newest_published_before_the_run(services):
    publish_metrics(services, WEEKS[0], 0.7)
    publish_metrics(services, WEEKS[1], 0.8)
    publish_metrics(services, WEEKS[2], 0.9)

    week, rows = previous_week(services, "model_metrics", WEEKS[2])

    assert week == WEEKS[1]
    assert [(row["model_version"], row["auc"]) for row in rows] == [(f"v-{WEEKS[1]}", 0.8)]
    assert previous_week(services, "model_metrics", WEEKS[2] + dt.timedelta(weeks=5))[0] == WEEKS[2]


def test_the_previous_week_is_read_from_the_folder_its_partition_points_at(services):
    publish_metrics(services, WEEKS[0], 0.7, execution="first")
    publish_metrics(services, WEEKS[0], 0.75, execution="rerun")  # the rerun re-pointed the partition

    _, rows = previous_week(services, "model_metrics", WEEKS[1])

    assert [row["execution_name"] for row in rows] == ["rerun"]


def test_an_unreadable_previous_week_is_no_comparison_and_is_logged(services, caplog):
    publish_metrics(services, WEEKS[0], 0.7)
    services.storage.write_bytes(f"{attempt_prefix('model_metrics', WEEKS[0], 'e')}part-0.parquet", b"not parquet")
    caplog.set_level(logging.WARNING, logger="pipeline.results.published_weeks")

    assert previous_week(services, "model_metrics", WEEKS[1]) is None
    assert f"no comparison with {WEEKS[0]}: its model_metrics rows could not be read" in caplog.text


def test_every_published_week_has_its_metrics_row_and_its_run_date(services):
    assert published_metrics(services) == []
    publish_metrics(services, WEEKS[0], 0.7)
    publish_metrics(services, WEEKS[2], 0.9)

    rows = {row["run_date"]: row for row in published_metrics(services)}

    assert set(rows) == {WEEKS[0].isoformat(), WEEKS[2].isoformat()}
    assert rows[WEEKS[0].isoformat()]["auc"] == 0.7 and rows[WEEKS[2].isoformat()]["auc"] == 0.9
    assert rows[WEEKS[2].isoformat()]["model_version"] == f"v-{WEEKS[2]}"
