"""Each Lambda handler, called with the event the state machine gives it."""
import datetime as dt
import re

import pytest

from lambdas.cleanup.app import handler as cleanup
from lambdas.prepare_data.app import handler as prepare_data
from lambdas.publish.app import handler as publish
from lambdas.record_failure.app import handler as record_failure
from pipeline.core.errors import DataQualityError, EventError
from pipeline.landing.ingest import ingest_file
from pipeline.warehouse.objects import read_json, write_json
from pipeline.warehouse.tables import table
from tests.conftest import PANEL_CUSTOMERS as CUSTOMERS
from tests.conftest import in_holdout, prepare_sets
from tests.pipeline.execution.test_events import ended

WEEK_5 = dt.date(2026, 2, 2)  # the newest labelled week of the panel's last run


def test_cleanup_resolves_the_newest_week_and_removes_stale_outputs(panel):
    write_json(panel.storage, "work/run_date=2026-03-02/training/stale.json", {})
    cleaned = cleanup({"input": {}, "execution_name": "exec-1"})
    run = cleaned["run"]
    assert run["run_date"] == "2026-03-02"  # the 9th weekly snapshot from 2026-01-05
    assert run["churn_horizon_weeks"] == 4 and run["execution_name"] == "exec-1"
    assert run["model_version"].startswith("20260302-")
    assert cleaned["files_removed"] == 1 and not panel.storage.list_keys("work/")


def test_cleanup_takes_the_week_of_the_scheduled_time(panel):
    cleaned = cleanup({"input": {"scheduled_time": "2026-02-04T06:00:00Z"}, "execution_name": "scheduled"})
    assert cleaned["run"]["run_date"] == "2026-02-02"


def test_prepare_data_writes_training_and_scoring_sets(panel, monkeypatch):
    monkeypatch.setenv("INFERENCE_ROWS_PER_SHARD", "300")
    monkeypatch.setenv("RETAINED_SAMPLE_RATE", "1")  # every row: the count is known
    run = cleanup({"input": {}, "execution_name": "exec-1"})["run"]
    prepared = prepare_data({"run": run})
    assert prepared["scoring_rows"] == CUSTOMERS
    assert prepared["shard_count"] == 3 and prepared["shards"] == [0, 1, 2]
    written = prepare_sets(panel, run, prepared)  # the state machine's PrepareSets
    labelled = panel.sql.query("SELECT customer_id, snapshot_date FROM engagement.snapshots WHERE snapshot_date "
                               "<= DATE '2026-02-02'").to_pylist()  # the weeks whose 4-week horizon is complete
    kept = [row for row in labelled if not in_holdout(row["customer_id"]) or row["snapshot_date"] == WEEK_5]
    assert 0 < len(labelled) - len(kept) < len(labelled) / 5  # the holdout's older weeks
    assert written == {"training_set": len(kept), "scoring_set": CUSTOMERS}
    assert panel.storage.list_keys("work/run_date=2026-03-02/execution=exec-1/scoring/attempt=0/shard=2/")


def test_prepare_data_refuses_too_few_weeks(panel):
    run = cleanup({"input": {"run_date": "2026-01-26"}, "execution_name": "early"})["run"]
    with pytest.raises(DataQualityError, match="4 weekly snapshot.*needs at least 5"):
        prepare_data({"run": run})


def test_prepare_data_names_a_missing_week(panel):
    snapshots = table("snapshots")
    panel.catalog.drop_partition(snapshots, "2026-01-19")
    run = cleanup({"input": {}, "execution_name": "gap"})["run"]
    with pytest.raises(DataQualityError, match="missing weeks: 2026-01-19"):
        prepare_data({"run": run})


def test_publish_refuses_a_partial_inference_and_publishes_nothing(panel):
    run = cleanup({"input": {}, "execution_name": "exec-1"})["run"]
    prepare_data({"run": run})  # its work recorded, and inference never ran
    with pytest.raises(DataQualityError, match="inference wrote 0 predictions .* expected 800"):
        publish({"run": run, "expected_rows": CUSTOMERS, "execution_id": "arn:exec-1"})
    assert panel.catalog.partitions(table("predictions")) == {}


def test_record_failure_keeps_the_error_of_the_eventbridge_event(services):
    record = record_failure(ended(name="exec-9", status="FAILED", input="{}", error="DataQualityError",
                                  cause="missing week"))
    assert record["error"] == "DataQualityError" and record["run_date"] is None
    assert read_json(services.storage, "runs/failures/exec-9.json")["cause"] == "missing week"


def test_a_scheduled_run_whose_week_has_not_landed_fails_instead_of_rerunning_the_last(panel):
    with pytest.raises(DataQualityError, match="no snapshot landed for the week up to 2026-03-16.*2026-03-02"):
        cleanup({"input": {"scheduled_time": "2026-03-16T06:00:00Z"}, "execution_name": "late"})


@pytest.mark.parametrize("execution_input, message", [
    ({"churn_horizon_weeks": 0}, "input.churn_horizon_weeks: must be a positive integer, got 0"),
    ({"churn_horizon_weeks": "abc"}, "input.churn_horizon_weeks: must be a positive integer, got 'abc'"),
    ({"churn_horizon_weeks": True}, "input.churn_horizon_weeks: must be a positive integer, got True"),
    ({"run_date": "02/03/2026"}, "input.run_date: must be a date YYYY-MM-DD, got '02/03/2026'"),
    ({"rundate": "2026-03-02"}, "input.rundate: Extra inputs are not permitted"),
])
def test_a_bad_execution_input_is_refused_naming_the_field(panel, execution_input, message):
    with pytest.raises(EventError, match=f"CleanupEvent: {re.escape(message)}"):
        cleanup({"input": execution_input, "execution_name": "bad"})


def test_prepare_data_refuses_a_truncated_week(panel, tmp_path):
    path = tmp_path / "truncated.csv"
    path.write_text("customer_id,sessions_7d\n" + "".join(f"c{i},1\n" for i in range(100)))
    ingest_file(panel, path, dt.date(2026, 3, 2))
    run = cleanup({"input": {}, "execution_name": "truncated"})["run"]
    with pytest.raises(DataQualityError, match="snapshot 2026-03-02 has 100 customers, less than 50% of the week"):
        prepare_data({"run": run})
