"""Each Lambda's event as a typed model."""
import pytest

from pipeline.core.errors import EventError
from pipeline.execution.events import CleanupEvent, PublishEvent, RecordFailureEvent
from pipeline.execution.identity import parse

RUN = {"run_date": "2026-03-02", "churn_horizon_weeks": 4, "model_version": "v", "execution_name": "e"}


def test_cleanup_takes_an_empty_execution_input():
    event = parse(CleanupEvent, {"input": {}, "execution_name": "e"}, "CleanupEvent")
    assert event.input.run_date is None and event.input.scheduled_time is None


def test_publish_refuses_a_negative_row_count():
    assert parse(PublishEvent, {"run": RUN, "expected_rows": 3, "execution_id": "arn:e"}, "PublishEvent").expected_rows == 3
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
