"""A local execution supervised: its record at every end (failed, interrupted), and what `resume` may continue."""
import datetime as dt

import pytest

from local_runtime import supervisor
from local_runtime.asl import ExecutionFailed, StateEvent
from local_runtime.run_records import past_runs, record_run
from local_runtime.supervisor import new_record, resumable, supervise
from pipeline.core.errors import PipelineError
from pipeline.execution.identity import Run
from pipeline.execution.week_lock import is_held
from pipeline.execution.work import StaleWorkError, record_inputs
from tests.conftest import land_weeks, week
from tools.cli.app import main

WEEK = "2026-03-02"
RUN = {"run_date": WEEK, "churn_horizon_weeks": 4, "model_version": "v", "execution_name": "failed-run"}


def event(name: str, status: str, scope: str = "", **fields) -> StateEvent:
    return StateEvent(name, "Task", 10.0, None if status == "started" else 12.5, status, scope=scope, **fields)


def executes(events: list[StateEvent], end: BaseException):
    """A stand-in for execute_locally: reports `events`, then raises `end`."""
    def execute(execution_input, execution_name, on_event, redrive):
        for each in events:
            on_event(each)
        raise end
    return execute


def test_a_new_record_is_named_after_its_week_and_keeps_its_input():
    record = new_record({"run_date": WEEK})
    assert record["execution_name"].startswith(f"{WEEK}-") and record["input"] == {"run_date": WEEK}
    assert new_record({})["execution_name"].startswith("latest-")


def test_a_failed_run_is_recorded_with_the_state_and_input_resume_continues_from(services, monkeypatch):
    seen = []
    monkeypatch.setattr(supervisor, "execute_locally", executes([
        event("Cleanup", "succeeded", output={"run": RUN}),
        event("Training", "started"),
        event("ScoreShard", "succeeded", scope="Inference[0]"),  # inside the Map: passed on, not a top-level state
        event("Training", "retried"),
        event("Training", "failed", input={"run": RUN}, error="States.TaskFailed"),
    ], ExecutionFailed("States.TaskFailed", "exit 2", history=[])))
    outcome = supervise(services, new_record({}), None, on_event=seen.append)
    assert len(seen) == 5 and list(outcome.finished) == ["Cleanup", "Training"]
    (recorded,) = past_runs(services.storage)
    assert recorded["status"] == "FAILED" and recorded["failed_state"] == "Training"
    assert recorded["run_date"] == WEEK  # resolved by Cleanup, although the input named no week
    assert recorded["resume_from"] == {"state": "Training", "input": {"run": RUN}}
    assert recorded["states"] == {"Cleanup": 2.5, "Training": 2.5} and recorded["duration_seconds"] >= 0
    assert outcome.failure.cause == "exit 2" and outcome.output is None


def test_an_interrupted_run_names_the_states_it_was_in(services, monkeypatch):
    monkeypatch.setattr(supervisor, "execute_locally", executes(
        [event("Cleanup", "succeeded"), event("Training", "started")], KeyboardInterrupt()))
    outcome = supervise(services, new_record({"run_date": WEEK}), None, on_event=lambda _: None)
    assert outcome.status == supervisor.INTERRUPTED and outcome.record["failed_state"] == "Training"
    assert past_runs(services.storage)[0]["status"] == supervisor.INTERRUPTED


@pytest.mark.parametrize("record", [None, {"status": "SUCCEEDED"}, {"status": "FAILED"}],
                         ids=["unknown", "succeeded", "failed-before-any-state"])
def test_only_a_failed_run_with_a_state_to_continue_from_is_resumable(services, record):
    if record:
        record_run(services.storage, "failed-run", {"execution_name": "failed-run", "started": "t", **record})
    with pytest.raises(PipelineError, match="execution failed-run cannot be resumed"):
        resumable(services, "failed-run")


def failed_in_training(services) -> None:
    record_inputs(services, Run.model_validate(RUN), week(1))  # as its PrepareData did
    record_run(services.storage, "failed-run", {
        "execution_name": "failed-run", "started": "t", "status": "FAILED",
        "resume_from": {"state": "Training", "input": {"run": RUN}}})


def test_resuming_past_cleanup_takes_the_week_and_counts_the_redrive(services):
    failed_in_training(services)
    record, redrive = resumable(services, "failed-run")
    assert (redrive.state, redrive.count, record["redrive_count"]) == ("Training", 1, 1)
    assert is_held(services.storage, dt.date.fromisoformat(WEEK))


def test_a_resume_whose_work_is_stale_is_refused_before_the_week_is_taken(services):
    failed_in_training(services)
    land_weeks(services, {"c1": [3], "c2": [0]})  # a week of its window, landed since its PrepareData
    with pytest.raises(StaleWorkError, match=f"week {week(1)} was landed"):
        resumable(services, "failed-run")
    assert not services.storage.list_keys("locks/")


@pytest.mark.parametrize("command", [["run"], ["backfill", "--from", str(week(1)), "--to", str(week(1))],
                                     ["resume", "failed-run"]])
def test_a_fault_named_for_no_state_of_the_definition_is_refused_before_anything_runs(services, monkeypatch, capsys,
                                                                                      command):
    land_weeks(services, {"c1": [3], "c2": [0]})
    record_run(services.storage, "failed-run", {
        "execution_name": "failed-run", "started": "t", "status": "FAILED",
        "resume_from": {"state": "Training", "input": {"run": RUN}}})
    monkeypatch.setenv("PIPELINE_FAULTS", "Training:once,Nope:once")
    assert main(command) == 2
    error = " ".join(capsys.readouterr().err.split())
    assert "PIPELINE_FAULTS names Nope, not a state of statemachine/pipeline.asl.json" in error
    assert "faults can be injected in: Cleanup, InferenceShard, KeepFeatures, PrepareData, Publish, Training" in error
    assert [run["execution_name"] for run in past_runs(services.storage)] == ["failed-run"]  # none recorded
    assert not services.storage.list_keys("locks/")  # no week taken
