import datetime as dt

from pipeline.execution.attempt import execution_attempt
from pipeline.execution.events import RecordFailureEvent
from pipeline.execution.identity import Run, parse
from pipeline.execution.week_lock import acquire_week
from pipeline.stages.record_failure import record_failure
from pipeline.warehouse.objects import read_json, read_parquet
from pipeline.warehouse.publication import Publication, publish
from pipeline.warehouse.tables import table
from tests.pipeline.execution.test_events import ended


def test_the_failure_is_kept_with_its_week_and_cause_and_the_week_given_back(services):
    run = Run(run_date="2026-03-02", churn_horizon_weeks=4, model_version="v", execution_name="e9")
    acquire_week(services.storage, run, dt.timedelta(hours=24))
    event = parse(RecordFailureEvent, ended(name="e9", status="FAILED", input="{}", error="States.TaskFailed",
                                            cause='{"StopCode": 1}'), "RecordFailureEvent")
    record = record_failure(services, event)
    assert record.pop("weeks_released") == ["locks/run_date=2026-03-02.json"]
    assert read_json(services.storage, "runs/failures/e9.json") == record
    assert record["run_date"] == "2026-03-02"  # the week it held, though the input named none
    assert (record["status"], record["error"], record["cause"], record["input"]) == (
        "FAILED", "States.TaskFailed", '{"StopCode": 1}', {})


def test_an_execution_that_held_no_week_keeps_what_its_input_asked(services):
    event = parse(RecordFailureEvent, ended(name="e1", status="ABORTED", input='{"run_date": "2026-02-23"}'),
                  "RecordFailureEvent")
    record = record_failure(services, event)
    assert record["weeks_released"] == [] and record["run_date"] == "2026-02-23"
    assert record["error"] == "ABORTED" and record["cause"] == ""


def test_a_late_failure_of_an_attempt_leaves_the_week_to_its_redrive(services):
    run = Run(run_date="2026-03-02", churn_horizon_weeks=4, model_version="v", execution_name="e9")
    with execution_attempt(1):
        acquire_week(services.storage, run, dt.timedelta(hours=24))  # the redrive holds the week
    first_failure = parse(RecordFailureEvent, ended(name="e9", status="FAILED", input="{}", redriveCount=0),
                          "RecordFailureEvent")
    record = record_failure(services, first_failure)
    assert record["weeks_released"] == [] and record["attempt"] == 0
    assert services.storage.exists("locks/run_date=2026-03-02.json")


def test_a_damaged_catalog_leaves_the_failure_recorded_with_its_week_and_its_runs_row(services, home):
    publish(services, Publication("results", "2026-02-23", {"predictions": "results/predictions/x/"}, "x"))
    (home / "catalog.json").write_text('{"engagement.runs": ')  # finishing that publication reads the catalog
    event = parse(RecordFailureEvent, ended(name="e2", status="FAILED", input='{"run_date": "2026-02-23"}',
                                            error="CatalogDamagedError"), "RecordFailureEvent")
    record = record_failure(services, event)
    assert read_json(services.storage, "runs/failures/e2.json")["run_date"] == "2026-02-23"
    assert record["error"] == "CatalogDamagedError" and record["publication_finished"] == []
    [row] = read_parquet(services.storage, f"{table('runs').partition_prefix('2026-02-23')}e2.attempt-0.parquet"
                         ).to_pylist()  # for `doctor --repair` to list once the catalog is rebuilt
    assert (row["status"], row["error"]) == ("FAILED", "CatalogDamagedError")
