"""The local execution history: state events appended to logs/<execution>/history.jsonl, read back as each
top-level state's time."""
import json

import pytest

from local_runtime.asl import StateEvent
from local_runtime.asl.events import CAUGHT, FAILED, RETRIED, STARTED, SUCCEEDED
from local_runtime.local_history import HISTORY_FILE, LocalExecutionHistory, append_event, history_path

EXECUTION = "week-2026-03-02"
EXECUTION_ARN = f"arn:aws:states:local:000000000000:execution:churn-pipeline:{EXECUTION}"


def event(name: str, status: str, started: float, ended: float | None = None, scope: str = "") -> StateEvent:
    return StateEvent(name, "Task", started, ended, status, input={"big": "input"}, output={"big": "output"},
                      error="States.TaskFailed" if status == FAILED else None, scope=scope)


@pytest.fixture
def logs(tmp_path):
    return tmp_path / "logs"


def record(logs, *events: StateEvent) -> None:
    for each in events:
        append_event(history_path(logs, EXECUTION), each)


def test_the_history_is_one_file_per_execution_under_logs(logs):
    assert history_path(logs, EXECUTION) == logs / EXECUTION / HISTORY_FILE


def test_each_event_is_one_json_line_of_its_name_scope_status_and_times(logs):
    record(logs, event("Cleanup", STARTED, 100.0), event("Cleanup", SUCCEEDED, 100.0, 101.5))

    lines = history_path(logs, EXECUTION).read_text().splitlines()

    assert [json.loads(line) for line in lines] == [
        {"name": "Cleanup", "scope": "", "status": STARTED, "started": 100.0, "ended": None},
        {"name": "Cleanup", "scope": "", "status": SUCCEEDED, "started": 100.0, "ended": 101.5}]  # no input, output


def test_a_state_takes_from_its_start_to_its_end_and_a_retry_stays_within_the_visit(logs):
    record(logs, event("Cleanup", STARTED, 100.0), event("Cleanup", SUCCEEDED, 100.0, 103.0),
           event("Training", STARTED, 103.0), event("Training", RETRIED, 103.0, 110.0),
           event("Training", SUCCEEDED, 103.0, 140.0))

    times = LocalExecutionHistory(logs).state_times(EXECUTION_ARN)  # the name ends the execution's ARN

    assert set(times) == {"Cleanup", "Training"}
    assert times["Cleanup"].seconds == 3.0 and times["Training"].seconds == 37.0
    assert not times["Training"].stopped and times["Training"].open_since is None


def test_states_inside_a_map_iteration_or_branch_are_left_out(logs):
    record(logs, event("Inference", STARTED, 10.0),
           event("InferenceShard", STARTED, 11.0, scope="Inference[0]"),
           event("InferenceShard", SUCCEEDED, 11.0, 20.0, scope="Inference[0]"),
           event("Inference", SUCCEEDED, 10.0, 25.0))

    times = LocalExecutionHistory(logs).state_times(EXECUTION)

    assert set(times) == {"Inference"} and times["Inference"].seconds == 15.0


def test_a_state_the_execution_failed_in_is_stopped_and_a_caught_one_is_not(logs):
    record(logs, event("Training", STARTED, 0.0), event("Training", CAUGHT, 0.0, 5.0),
           event("RecordFailure", STARTED, 5.0), event("RecordFailure", FAILED, 5.0, 6.0))

    times = LocalExecutionHistory(logs).state_times(EXECUTION)

    assert not times["Training"].stopped and times["Training"].seconds == 5.0
    assert times["RecordFailure"].stopped and times["RecordFailure"].seconds == 1.0


def test_a_state_still_running_is_open_since_its_start(logs):
    record(logs, event("Publish", STARTED, 50.0))

    publish = LocalExecutionHistory(logs).state_times(EXECUTION)["Publish"]

    assert publish.seconds == 0.0 and publish.open_since == 50.0 and publish.up_to(58.0) == 8.0


def test_a_resumed_execution_appends_and_its_visits_add_up(logs):
    record(logs, event("Training", STARTED, 0.0), event("Training", FAILED, 0.0, 20.0))
    record(logs, event("Training", STARTED, 100.0), event("Training", SUCCEEDED, 100.0, 130.0))  # the redrive

    training = LocalExecutionHistory(logs).state_times(EXECUTION)["Training"]

    assert len(history_path(logs, EXECUTION).read_text().splitlines()) == 4
    assert training.seconds == 50.0 and not training.stopped  # it finished on the redrive


def test_an_execution_with_no_history_file_is_an_error(logs):
    with pytest.raises(FileNotFoundError):
        LocalExecutionHistory(logs).state_times("never-ran")
