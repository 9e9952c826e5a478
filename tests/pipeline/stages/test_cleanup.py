"""Cleanup removes the week's leftovers and never what the catalog points at or what a user registered."""
import datetime as dt

import pytest

from local_runtime.host import local_services  # settings read again, after RETENTION_WEEKS is set
from pipeline.core.errors import CatalogLostError
from pipeline.execution.identity import Run, model_version_for
from pipeline.execution.week_lock import acquire_week
from pipeline.execution.work import REDRIVE_WINDOW, record_inputs
from pipeline.stages.cleanup import clean_week, cleanup
from pipeline.warehouse.layout import attempt_prefix, week_work_prefix, work_inputs_key, work_prefix
from pipeline.warehouse.objects import write_json
from pipeline.warehouse.publication import Publication, publish
from pipeline.warehouse.tables import table
from tests.conftest import land_weeks

WEEK = dt.date(2026, 3, 2)


def execution_of(week: dt.date, name: str) -> Run:
    return Run(run_date=week, churn_horizon_weeks=4, model_version=model_version_for(week, name), execution_name=name)


def test_cleanup_removes_work_files_and_unpublished_attempts_only(services):
    predictions = table("predictions")
    write_json(services.storage, f"{work_prefix(execution_of(WEEK, 'failed'))}training/part-0.json", {})
    for execution in ("published", "failed"):
        write_json(services.storage, f"{attempt_prefix('predictions', WEEK, execution)}shard-00000.json", {})
    services.catalog.put_partition(predictions, WEEK.isoformat(),
                                   services.storage.uri(attempt_prefix("predictions", WEEK, "published")))
    by_hand = f"{predictions.partition_prefix(WEEK.isoformat())}mine.json"  # not a folder the pipeline made
    write_json(services.storage, by_hand, {})
    other_week = f"{work_prefix(execution_of(WEEK - dt.timedelta(weeks=1), 'other'))}training/part-0.json"
    write_json(services.storage, other_week, {})

    assert clean_week(services, WEEK) == 2
    assert services.storage.list_keys("results/") == [
        f"{attempt_prefix('predictions', WEEK, 'published')}shard-00000.json", by_hand]
    assert services.storage.list_keys("work/") == [other_week]


def test_the_work_and_results_of_a_failed_execution_are_kept_while_it_can_be_resumed(services, monkeypatch):
    failed, legacy = execution_of(WEEK, "failed"), f"{week_work_prefix(WEEK)}training/part-0.json"
    record_inputs(services, failed, WEEK)  # made now: resumable for REDRIVE_WINDOW
    write_json(services.storage, f"{work_prefix(failed)}training/part-0.json", {})
    write_json(services.storage, f"{attempt_prefix('predictions', WEEK, 'failed')}shard-00000.json", {})
    write_json(services.storage, legacy, {})  # the older layout's work folder: no execution can resume it

    assert clean_week(services, WEEK) == 1
    assert not services.storage.exists(legacy)
    kept = services.storage.list_keys("")
    assert f"{work_prefix(failed)}training/part-0.json" in kept
    assert f"{attempt_prefix('predictions', WEEK, 'failed')}shard-00000.json" in kept

    later = dt.datetime.now(dt.timezone.utc) + REDRIVE_WINDOW + dt.timedelta(minutes=1)
    monkeypatch.setattr("pipeline.stages.cleanup.now_utc", lambda: later)
    assert clean_week(services, WEEK) == 3  # its inputs record, its training file, its predictions
    assert services.storage.list_keys("") == []


def test_cleanup_of_a_clean_week_removes_nothing(services):
    assert clean_week(services, WEEK) == 0


def test_retention_removes_old_leftovers_and_unused_models_never_published_or_held_ones(services, monkeypatch):
    monkeypatch.setenv("RETENTION_WEEKS", "4")
    old, held, recent = WEEK - dt.timedelta(weeks=10), WEEK - dt.timedelta(weeks=9), WEEK - dt.timedelta(weeks=2)
    for week in (old, held, recent):
        write_json(services.storage, f"{work_prefix(execution_of(week, 'replaced'))}training/part-0.json", {})
        for execution in ("published", "replaced"):
            write_json(services.storage, f"{attempt_prefix('predictions', week, execution)}shard-00000.json", {})
            write_json(services.storage, f"models/model_version={model_version_for(week, execution)}/metrics.json", {})
        services.catalog.put_partition(table("predictions"), week.isoformat(),
                                       services.storage.uri(attempt_prefix("predictions", week, "published")))
    acquire_week(services.storage, Run(run_date=held, churn_horizon_weeks=4, model_version="b", execution_name="b"),
                 dt.timedelta(hours=24))  # a backfill of that week is running

    run = Run(run_date=WEEK, churn_horizon_weeks=4, model_version="now", execution_name="now")
    assert cleanup(local_services(), run) == 3  # the old week's work file, replaced folder and unused model
    kept = services.storage.list_keys("")
    assert f"{attempt_prefix('predictions', old, 'published')}shard-00000.json" in kept
    assert f"models/model_version={model_version_for(old, 'published')}/metrics.json" in kept
    assert not any(key.startswith(f"models/model_version={model_version_for(old, 'replaced')}") for key in kept)
    for week in (held, recent):  # held by a run, or inside the window: untouched
        assert f"{attempt_prefix('predictions', week, 'replaced')}shard-00000.json" in kept
        assert f"models/model_version={model_version_for(week, 'replaced')}/metrics.json" in kept


def test_retention_keeps_the_model_a_resumable_failed_execution_goes_on_with(services, monkeypatch):
    monkeypatch.setenv("RETENTION_WEEKS", "4")
    old = WEEK - dt.timedelta(weeks=10)
    write_json(services.storage, f"{attempt_prefix('predictions', old, 'published')}shard-00000.json", {})
    services.catalog.put_partition(table("predictions"), old.isoformat(),
                                   services.storage.uri(attempt_prefix("predictions", old, "published")))
    record_inputs(services, execution_of(old, "failed"), old)  # made now: resumable for REDRIVE_WINDOW
    model = f"models/model_version={model_version_for(old, 'failed')}/metrics.json"
    write_json(services.storage, model, {})

    cleanup(local_services(), Run(run_date=WEEK, churn_horizon_weeks=4, model_version="now", execution_name="now"))
    assert services.storage.exists(model) and services.storage.exists(work_inputs_key(execution_of(old, "failed")))


def test_a_lost_catalog_deletes_nothing_and_says_so(services, home):
    land_weeks(services, {"a": [1]})
    write_json(services.storage, f"{attempt_prefix('predictions', WEEK, 'published')}shard-00000.json", {})
    (home / "catalog.json").unlink()
    files = services.storage.list_keys("")
    run = Run(run_date=WEEK, churn_horizon_weeks=4, model_version="v", execution_name="e")
    with pytest.raises(CatalogLostError, match="the catalog lists no partition of engagement.snapshots, yet .* "
                                               "holds its data"):
        cleanup(services, run)
    assert [key for key in services.storage.list_keys("") if not key.startswith("locks/")] == files


def test_lost_result_partitions_delete_no_history(services):
    land_weeks(services, {"a": [1]})
    old_week = WEEK - dt.timedelta(weeks=20)
    write_json(services.storage, f"{attempt_prefix('model_metrics', old_week, 'published')}part-0.json", {})
    run = Run(run_date=WEEK, churn_horizon_weeks=4, model_version="v", execution_name="e")
    cleanup(local_services(), run)  # the week has no published partition (lost, or never published): kept
    assert services.storage.exists(attempt_prefix("model_metrics", old_week, "published"))


def test_a_catalog_behind_the_weeks_publication_record_is_caught_up_and_its_folders_kept(services):
    folders = {name: attempt_prefix(name, WEEK, "published") for name in ("predictions", "model_metrics")}
    for folder in folders.values():
        write_json(services.storage, f"{folder}part-0.json", {})
    publish(services, Publication("results", WEEK.isoformat(), folders, published_by="published"))
    services.catalog.drop_partition(table("model_metrics"), WEEK.isoformat())  # as if killed between two updates
    land_weeks(services, {"a": [1]})
    cleanup(services, Run(run_date=WEEK, churn_horizon_weeks=1, model_version="v", execution_name="next"))
    assert services.catalog.partitions(table("model_metrics"))[WEEK.isoformat()] == services.storage.uri(
        folders["model_metrics"])
    assert all(services.storage.list_keys(folder) for folder in folders.values())
