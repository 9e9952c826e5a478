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


@pytest.mark.parametrize("state", [{"x": 1}, {"run": "2026-03-02", "error": "boom"}, {"run": None, "error": [1]}])
def test_record_failure_accepts_whatever_state_the_failure_left(state):
    """A failure must be recorded whatever its shape: before the run is resolved, or with odd fields."""
    event = parse(RecordFailureEvent, {"execution_name": "e", "state": state}, "RecordFailureEvent")
    assert event.state.error_field("Error", "Unknown") == "Unknown" and event.state.error_field("Cause", "") == ""


def test_record_failure_reads_the_caught_error():
    caught = {"run": RUN, "prepared": {"shards": [0]}, "error": {"Error": "States.TaskFailed", "Cause": "boom"}}
    event = parse(RecordFailureEvent, {"execution_name": "e", "execution_input": {"run_date": "2026-03-02"},
                                       "state": caught}, "RecordFailureEvent")
    assert event.state.run == RUN and event.state.error_field("Cause", "") == "boom"
    assert event.execution_input == {"run_date": "2026-03-02"}


def test_the_consoles_default_input_is_accepted():
    event = parse(CleanupEvent, {"input": {"Comment": "Insert your JSON here"}, "execution_name": "e"}, "CleanupEvent")
    assert event.input.run_date is None
