"""The serving store on both tables (SQLite locally, DynamoDB on moto): a week is served only once Publish points
at it, expired items are never answered, and a backfill never moves the current week back."""
import datetime as dt

import boto3
import pytest

from local_runtime.sqlite_items import SqliteItems
from pipeline.aws.dynamodb_items import DynamoItems, ServingStoreError
from pipeline.serving import store
from pipeline.serving.store import Reason, Risk, ServedWeek, load_risks, publish_week, risks_of, served_week
from tests.conftest import create_serving_table

WEEK_1, WEEK_2 = dt.date(2026, 3, 2), dt.date(2026, 3, 9)
LATER = store.expiry(days=365)


@pytest.fixture(params=["sqlite", "dynamodb"])
def table(request, tmp_path):
    if request.param == "sqlite":
        return SqliteItems(tmp_path / "serving.sqlite3")
    request.getfixturevalue("mocked_aws")
    return DynamoItems(create_serving_table(boto3.client("dynamodb")), boto3.client("dynamodb"))


def risk(customer: str, week: dt.date, probability: float) -> Risk:
    return Risk(customer, week.isoformat(), probability, "high" if probability >= 0.5 else "low", "m1",
                [Reason("sessions_7d", 0.0, 0.8), Reason("plan", "free", 0.1)])


def week(run_date: dt.date, version: str) -> ServedWeek:
    return ServedWeek(run_date.isoformat(), version, "m1", "2026-03-03T06:00:00+00:00", 2)


def test_a_loaded_week_is_served_only_once_published(table):
    load_risks(table, [risk("a", WEEK_1, 0.7), risk("b", WEEK_1, 0.1)], "exec-1", LATER)
    assert served_week(table) is None  # loaded, not published: nothing to serve
    assert publish_week(table, week(WEEK_1, "exec-1"), LATER)
    served = served_week(table)
    assert served == week(WEEK_1, "exec-1")
    assert risks_of(table, ["a", "b", "nobody"], served) == {"a": risk("a", WEEK_1, 0.7), "b": risk("b", WEEK_1, 0.1)}


def test_a_half_loaded_run_leaves_the_previous_week_served_unchanged(table):
    load_risks(table, [risk("a", WEEK_1, 0.7)], "exec-1", LATER)
    publish_week(table, week(WEEK_1, "exec-1"), LATER)
    load_risks(table, [risk("a", WEEK_2, 0.2)], "exec-2", LATER)  # then the run fails before Publish
    assert risks_of(table, ["a"], served_week(table)) == {"a": risk("a", WEEK_1, 0.7)}


def test_a_backfill_is_served_for_its_week_without_moving_the_current_week_back(table):
    for run_date, version in ((WEEK_2, "exec-2"), (WEEK_1, "backfill")):
        load_risks(table, [risk("a", run_date, 0.4)], version, LATER)
        moved = publish_week(table, week(run_date, version), LATER)
    assert not moved
    assert served_week(table).run_date == WEEK_2.isoformat()
    assert served_week(table, WEEK_1).version == "backfill"


def test_expired_items_are_never_answered_even_before_they_are_deleted(table):
    load_risks(table, [risk("a", WEEK_1, 0.7)], "exec-1", LATER)
    publish_week(table, week(WEEK_1, "exec-1"), expires_at=1)  # the week's pointer expired long ago
    assert served_week(table, WEEK_1) is None
    load_risks(table, [risk("b", WEEK_1, 0.7)], "exec-1", expires_at=1)
    assert set(risks_of(table, ["a", "b"], served_week(table))) == {"a"}


def test_sqlite_purges_what_dynamodbs_ttl_would_delete(tmp_path):
    table = SqliteItems(tmp_path / "serving.sqlite3")
    load_risks(table, [risk("a", WEEK_1, 0.7)], "old", expires_at=1)
    load_risks(table, [risk("b", WEEK_1, 0.7)], "new", LATER)
    assert table.purge_expired() == 1
    assert [item["pk"] for item in table.get_items([("customer#a", "old"), ("customer#b", "new")])] == ["customer#b"]


def test_dynamodb_writes_again_what_it_left_unprocessed_and_fails_naming_it_if_it_never_goes(mocked_aws):
    client = boto3.client("dynamodb")
    name = create_serving_table(client)
    calls = []
    real = client.batch_write_item

    def throttled_once(**request):
        calls.append(len(request["RequestItems"][name]))
        if len(calls) == 1:  # DynamoDB took none of the first call's items
            return {"UnprocessedItems": request["RequestItems"]}
        return real(**request)

    client.batch_write_item = throttled_once
    table = DynamoItems(name, client, sleep=lambda seconds: None)
    load_risks(table, [risk(f"c{index}", WEEK_1, 0.5) for index in range(30)], "exec-1", LATER)
    assert calls == [25, 25, 5]  # 25 a call; the refused batch sent again
    assert len(table.get_items([(f"customer#c{index}", "exec-1") for index in range(30)])) == 30
    client.batch_write_item = lambda **request: {"UnprocessedItems": request["RequestItems"]}
    with pytest.raises(ServingStoreError, match="left 1 item"):
        load_risks(table, [risk("z", WEEK_1, 0.5)], "exec-1", LATER)
