"""The runs table's state seconds: read from Step Functions' history (stubbed: its event shapes) and the local
executor's, with the same meaning."""
import datetime as dt
import json

import boto3
import pytest
from botocore.stub import Stubber

from pipeline.aws.states import StepFunctionsHistory
from pipeline.core.settings import REPO_ROOT
from pipeline.results.run_history import RUN_STATES, seconds_column, state_seconds, state_times, stopped_in

ARN = "arn:aws:states:eu-west-1:123456789012:execution:churn-pipeline-pipeline:week-2026-03-02"
START = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.timezone.utc)


def event(number: int, seconds: float, kind: str, state: str | None = None) -> dict:
    found = {"id": number, "timestamp": START + dt.timedelta(seconds=seconds), "type": kind}
    if kind.endswith("StateEntered"):
        found["stateEnteredEventDetails"] = {"name": state}
    elif kind.endswith("StateExited"):
        found["stateExitedEventDetails"] = {"name": state}
    return found


def stubbed_history(*pages: list[dict]) -> StepFunctionsHistory:
    client = boto3.client("stepfunctions", region_name="eu-west-1")
    stubber = Stubber(client)
    for index, events in enumerate(pages):
        more = {"nextToken": f"page-{index + 1}"} if index + 1 < len(pages) else {}
        expected = {"executionArn": ARN} | ({"nextToken": f"page-{index}"} if index else {})
        stubber.add_response("get_execution_history", {"events": events, **more}, expected)
    stubber.activate()
    return StepFunctionsHistory(client)


def test_step_functions_history_gives_each_states_seconds_and_where_the_execution_stopped():
    history = stubbed_history([
        event(1, 0, "ExecutionStarted"),
        event(2, 0, "TaskStateEntered", "Cleanup"), event(3, 2, "TaskStateExited", "Cleanup"),
        event(4, 2, "ParallelStateEntered", "PrepareSets"),
        event(5, 3, "TaskStateEntered", "UnloadTrainingSet"), event(6, 9, "TaskStateExited", "UnloadTrainingSet"),
    ], [  # the second page: the history is paginated
        event(7, 10, "ParallelStateExited", "PrepareSets"),
        event(8, 10, "TaskStateEntered", "Training"), event(9, 40, "TaskFailed"), event(10, 41, "ExecutionFailed"),
        event(11, 500, "ExecutionRedriven"),  # redriven later: Training again, from the failed state
        event(12, 500, "TaskStateEntered", "Training"), event(13, 530, "TaskStateExited", "Training"),
        event(14, 530, "TaskStateEntered", "Inference"), event(15, 545, "ExecutionFailed"),
    ])
    times = history.state_times(ARN)
    assert {name: state.seconds for name, state in times.items()} == {
        "Cleanup": 2, "PrepareSets": 8, "UnloadTrainingSet": 6, "Training": 31 + 30, "Inference": 15}
    # Training stopped the first attempt, then finished on the redrive: where the execution stopped is Inference
    assert [name for name, state in times.items() if state.stopped] == ["Inference"]
    assert times["Inference"].open_since is None


class History:
    def __init__(self, history):
        self.history = history


def test_the_runs_row_takes_the_run_states_only_and_counts_a_running_one_up_to_now():
    history = stubbed_history([event(1, 0, "TaskStateEntered", "Cleanup"), event(2, 2, "TaskStateExited", "Cleanup"),
                               event(3, 2, "TaskStateEntered", "UnloadTrainingSet"),
                               event(4, 5, "TaskStateExited", "UnloadTrainingSet"),
                               event(5, 5, "TaskStateEntered", "Publish")])
    now = (START + dt.timedelta(seconds=6)).timestamp()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("time.time", lambda: now)
        row = state_seconds(state_times(History(history), ARN))
    assert row["cleanup_seconds"] == 2 and row["publish_seconds"] == 1 and row["training_seconds"] is None
    assert row["duration_seconds"] == 3  # the branch state is inside PrepareSets, not a run state of its own


def test_a_history_that_cannot_be_read_leaves_the_seconds_null_and_says_why(caplog):
    client = boto3.client("stepfunctions", region_name="eu-west-1")
    stubber = Stubber(client)
    stubber.add_client_error("get_execution_history", "AccessDeniedException", "not authorized")
    stubber.activate()
    services = History(StepFunctionsHistory(client))
    assert set(state_seconds(state_times(services, ARN)).values()) == {None}
    assert "no state durations for" in caplog.text and "not authorized" in caplog.text
    assert stopped_in(state_times(services, None)) is None


def test_run_states_are_the_state_machines_top_level_states_and_runs_has_a_column_for_each():
    definition = json.loads((REPO_ROOT / "statemachine" / "pipeline.asl.json").read_text())
    working = [name for name, state in definition["States"].items() if state["Type"] not in {"Succeed", "Choice"}]
    assert list(RUN_STATES) == working
    columns = {column["name"] for column in json.loads((REPO_ROOT / "glue" / "runs.json").read_text())["columns"]}
    assert {seconds_column(state) for state in RUN_STATES} <= columns
    assert seconds_column("PrepareSets") == "prepare_sets_seconds"
