"""Each Lambda's event as a typed model."""
import pytest

from pipeline.errors import EventError
from pipeline.events import CleanupEvent, PublishEvent, RecordFailureEvent
from pipeline.run import parse

RUN = {"run_date": "2026-03-02", "churn_horizon_weeks": 4, "model_version": "v", "execution_name": "e"}


def test_cleanup_takes_an_empty_execution_input():
    event = parse(CleanupEvent, {"input": {}, "execution_name": "e"}, "CleanupEvent")
    assert event.input.run_date is None and event.input.scheduled_time is None


def test_publish_refuses_a_negative_row_count():
    assert parse(PublishEvent, {"run": RUN, "expected_rows": 3}, "PublishEvent").expected_rows == 3
    with pytest.raises(EventError, match="PublishEvent: expected_rows: Input should be greater than or equal to 0"):
        parse(PublishEvent, {"run": RUN, "expected_rows": -1}, "PublishEvent")


def test_record_failure_accepts_whatever_state_the_failure_left():
    """A failure must be recorded whatever its shape: before the run is resolved, or with unknown fields."""
    event = parse(RecordFailureEvent, {"execution_name": "e", "state": {"input": {"x": 1}}}, "RecordFailureEvent")
    assert event.state.run is None and event.state.error.Error == "Unknown"
    caught = {"run": RUN, "prepared": {"shards": [0]}, "error": {"Error": "States.TaskFailed", "Cause": "boom"}}
    event = parse(RecordFailureEvent, {"execution_name": "e", "state": caught}, "RecordFailureEvent")
    assert event.state.run == RUN and event.state.error.Cause == "boom"
