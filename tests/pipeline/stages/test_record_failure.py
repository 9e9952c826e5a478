from pipeline.events import RecordFailureEvent
from pipeline.run import parse
from pipeline.stages.record_failure import record_failure
from pipeline.storage import read_json


def test_the_failure_is_kept_with_its_run_and_cause(services):
    state = {"run": {"run_date": "2026-03-02"}, "error": {"Error": "States.TaskFailed", "Cause": "{\"StopCode\": 1}"}}
    event = parse(RecordFailureEvent, {"execution_name": "e9", "execution_input": {"run_date": "2026-03-02"},
                                       "state": state}, "RecordFailureEvent")
    record = record_failure(services, event)
    assert record.pop("weeks_released") == []  # it held no week
    assert read_json(services.storage, "runs/failures/e9.json") == record
    assert record["run"] == {"run_date": "2026-03-02"} and record["error"] == "States.TaskFailed"
    assert record["cause"] == "{\"StopCode\": 1}" and record["recorded_at"]
    assert record["input"] == {"run_date": "2026-03-02"}
