"""Each Lambda's event as a typed model, and the cause of a failed state as a person needs it."""
import json

import pytest

from pipeline.core.errors import EventError
from pipeline.execution.events import CleanupEvent, PublishEvent, RecordFailureEvent, root_cause
from pipeline.execution.identity import parse

RUN = {"run_date": "2026-03-02", "churn_horizon_weeks": 4, "model_version": "v", "execution_name": "e"}


def test_cleanup_takes_an_empty_execution_input():
    event = parse(CleanupEvent, {"input": {}, "execution_name": "e"}, "CleanupEvent")
    assert event.input.run_date is None and event.input.scheduled_time is None


def test_publish_refuses_a_negative_row_count():
    event = parse(PublishEvent, {"run": RUN, "expected_rows": 3, "execution_id": "arn:e"}, "PublishEvent")
    assert event.expected_rows == 3
    with pytest.raises(EventError, match="PublishEvent: expected_rows: Input should be greater than or equal to 0"):
        parse(PublishEvent, {"run": RUN, "expected_rows": -1, "execution_id": "arn:e"}, "PublishEvent")


def ended(**detail) -> dict:
    return {"source": "aws.states", "detail-type": "Step Functions Execution Status Change", "detail": detail}


@pytest.mark.parametrize("detail", [{"name": "e"}, {"name": "e", "status": "ABORTED", "input": "not json", "x": 1}])
def test_record_failure_accepts_whatever_the_ended_execution_left(detail):
    """A failure must be recorded whatever its shape: no error, odd input, fields added to the event later."""
    event = parse(RecordFailureEvent, ended(**detail), "RecordFailureEvent")
    assert event.execution_name == "e" and event.detail.error is None


def test_record_failure_reads_the_error_of_the_event():
    event = parse(RecordFailureEvent, ended(name="e", status="FAILED", input='{"run_date": "2026-03-02"}',
                                            error="States.TaskFailed", cause="boom"), "RecordFailureEvent")
    assert (event.detail.status, event.detail.error, event.detail.cause) == ("FAILED", "States.TaskFailed", "boom")


def test_the_consoles_default_input_is_accepted():
    event = parse(CleanupEvent, {"input": {"Comment": "Insert your JSON here"}, "execution_name": "e"}, "CleanupEvent")
    assert event.input.run_date is None


STOPPED = "Essential container in task exited"


@pytest.mark.parametrize("cause, shown", [
    ("boom", "boom"),
    ({"errorMessage": "boom", "errorType": "DataQualityError"}, "boom"),
    ({"QueryExecution": {"Status": {"StateChangeReason": "HIVE_BAD_DATA"}}}, "the Athena query failed: HIVE_BAD_DATA"),
    ({"Containers": [{"Name": "training", "ExitCode": 1, "Reason": "OutOfMemoryError"}], "StoppedReason": STOPPED,
      "LogFile": "/logs/Training.log"}, "OutOfMemoryError (log: /logs/Training.log)"),
    ({"Containers": [{"Name": "training", "ExitCode": 137, "LastStatus": "STOPPED"}], "StoppedReason": STOPPED,
      "StopCode": "EssentialContainerExited"}, f"container training exited 137: {STOPPED}"),
    ({"Containers": [{"Name": "inference"}], "StoppedReason": "CannotPullContainerError: pull access denied"},
     "container inference: CannotPullContainerError: pull access denied"),
    ({"Containers": [], "StoppedReason": "Task stopped by user"}, "Task stopped by user"),
], ids=["text", "lambda", "athena", "ecs-reason", "ecs-exit-code", "ecs-never-started", "ecs-stopped"])
def test_the_root_cause_is_the_message_a_person_needs(cause, shown):
    assert root_cause(cause if isinstance(cause, str) else json.dumps(cause)) == shown


@pytest.mark.parametrize("details", [{"QueryExecution": "not an object"}, {"QueryExecution": {"Status": []}},
                                     {"errorMessage": {"nested": 1}}, {"Containers": 3}, {"Containers": ["x"]}],
                         ids=["query-not-an-object", "status-a-list", "message-not-text", "containers-not-a-list",
                              "container-not-an-object"])
def test_a_cause_of_an_unknown_shape_is_shown_whole(details):
    assert root_cause(json.dumps(details)) == json.dumps(details)
