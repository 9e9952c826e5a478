"""Cleanup removes the week's leftovers and never what the catalog points at or what a user registered."""
import datetime as dt

from pipeline.keys import attempt_prefix, work_prefix
from pipeline.stages.cleanup import clean_week
from pipeline.storage import write_json
from pipeline.tables import table

WEEK = dt.date(2026, 3, 2)


def test_cleanup_removes_work_files_and_unpublished_attempts_only(services):
    predictions = table("predictions")
    write_json(services.storage, f"{work_prefix(WEEK)}training/part-0.json", {})
    for execution in ("published", "failed"):
        write_json(services.storage, f"{attempt_prefix('predictions', WEEK, execution)}shard-00000.json", {})
    services.catalog.put_partition(predictions, WEEK.isoformat(),
                                   services.storage.uri(attempt_prefix("predictions", WEEK, "published")))
    by_hand = f"{predictions.partition_prefix(WEEK.isoformat())}mine.json"  # not a folder the pipeline made
    write_json(services.storage, by_hand, {})
    other_week = f"{work_prefix(WEEK - dt.timedelta(weeks=1))}training/part-0.json"
    write_json(services.storage, other_week, {})

    assert clean_week(services, WEEK) == 2
    assert services.storage.list_keys("results/") == [
        f"{attempt_prefix('predictions', WEEK, 'published')}shard-00000.json", by_hand]
    assert services.storage.list_keys("work/") == [other_week]


def test_cleanup_of_a_clean_week_removes_nothing(services):
    assert clean_week(services, WEEK) == 0
