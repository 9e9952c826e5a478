"""Local executions supervised from start to end, for `run`, `resume` and `backfill`: each is recorded in `runs/`
as it starts (with the process running it, so one that dies unrecorded shows as KILLED), Ctrl-C and SIGTERM end it
the same way (its container tasks stopped first), and its end is recorded as SUCCEEDED, FAILED (with the state and
input `resume` continues from, as RedriveExecution would) or INTERRUPTED. What a person sees is the caller's.
"""
from __future__ import annotations

import datetime as dt
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

from local_runtime.asl import ExecutionFailed, Redrive, StateEvent
from local_runtime.launcher import check_fault_states, execute_locally, new_execution_name, stop_running_tasks
from local_runtime.run_records import FAILED, can_resume, past_runs, record_run, record_started
from pipeline.core.errors import PipelineError
from pipeline.execution.attempt import execution_attempt
from pipeline.execution.identity import Run
from pipeline.execution.week_lock import hold_week
from pipeline.execution.work import check_inputs
from pipeline.model.store import ModelStore
from pipeline.warehouse.ports import Services

SUCCEEDED, INTERRUPTED = "SUCCEEDED", "INTERRUPTED"  # and FAILED, the one `resume` continues (run_records)
STATES_THAT_MAKE_THE_WORK = ("Cleanup", "PrepareData")  # a resume from them prepares its work afresh


@dataclass
class Outcome:
    record: dict  # as `runs` lists it
    finished: dict[str, StateEvent] = field(default_factory=dict)  # top-level states that ended, by name
    output: dict | None = None  # the execution's output, if it succeeded
    metrics: dict | None = None  # the week's model metrics, if it succeeded
    failure: ExecutionFailed | None = None

    @property
    def status(self) -> str:
        return self.record["status"]


class _StateLog:
    """The top-level states that ended and those still running, with every event passed on to `forward`."""

    def __init__(self, forward: Callable[[StateEvent], None]):
        self.forward = forward
        self.finished: dict[str, StateEvent] = {}
        self.running: dict[str, None] = {}  # ordered set

    def __call__(self, event: StateEvent) -> None:
        if not event.scope:  # states inside the Map are the caller's to count
            if event.status == "started":
                self.running[event.name] = None
            elif event.status != "retried":
                self.running.pop(event.name, None)
                self.finished[event.name] = event
        self.forward(event)


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def new_record(execution_input: dict) -> dict:
    """The record of a new execution of `execution_input`, named after its week."""
    return {"execution_name": new_execution_name(execution_input.get("run_date")), "input": execution_input,
            "run_date": execution_input.get("run_date"), "started": now()}


def resumable(services: Services, execution_name: str) -> tuple[dict, Redrive]:
    """A failed local execution's record and where it continues from; past Cleanup, its week is taken here, for
    as long as this process runs it."""
    check_fault_states()  # before the week is taken
    record = next((run for run in past_runs(services.storage) if run["execution_name"] == execution_name), None)
    if record is None or not can_resume(record):
        status = record.get("status") if record else "not found"
        raise PipelineError(f"execution {execution_name} cannot be resumed ({status}): only a failed local run can; "
                            "`runs` lists them")
    resume_from = record["resume_from"]
    record |= {"resumed": now(), "redrive_count": record.get("redrive_count", 0) + 1}
    if "run" in resume_from["input"]:
        run = Run.model_validate(resume_from["input"]["run"])
        if resume_from["state"] not in STATES_THAT_MAKE_THE_WORK:
            check_inputs(services, run)  # refused now, rather than by the first state that reads the work
        with execution_attempt(record["redrive_count"]):
            hold_week(services, run)
    return record, Redrive(resume_from["state"], resume_from["input"], record["redrive_count"])


def supervise(services: Services, record: dict, redrive: Redrive | None,
              on_event: Callable[[StateEvent], None]) -> Outcome:
    """Execute the state machine for `record` (from `redrive`'s state, if given) and record how it ended."""
    check_fault_states()  # before the run is recorded: a refused run is no run
    record_started(services.storage, record)
    states, clock = _StateLog(_noting_the_week(services, record, on_event)), time.monotonic()
    with _terminate_as_interrupt():
        try:
            result = execute_locally(record["input"], execution_name=record["execution_name"], on_event=states,
                                     redrive=redrive)
        except ExecutionFailed as failure:
            outcome = _failed(record, states, failure)
        except KeyboardInterrupt:
            outcome = _interrupted(record, states)
        else:
            outcome = _succeeded(services, record, states, result.output)
    outcome.record["duration_seconds"] = round(time.monotonic() - clock, 1)
    record_run(services.storage, record["execution_name"], outcome.record)
    return outcome


def _noting_the_week(services: Services, record: dict,
                     forward: Callable[[StateEvent], None]) -> Callable[[StateEvent], None]:
    """`forward`, after the RUNNING record is rewritten with the week once Cleanup has resolved it: a run killed
    later (kill -9, a crash) is then listed under its week."""
    def on_event(event: StateEvent) -> None:
        if event.name == "Cleanup" and event.status == "succeeded" and not event.scope:
            record["run_date"] = (event.output or {}).get("run", {}).get("run_date") or record.get("run_date")
            record_started(services.storage, record)
        forward(event)
    return on_event


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM or SIGINT (`kill`, Ctrl-C) ends a run the same way: its container tasks stopped first (the thread
    that waits for a task would otherwise wait for it to finish), then the run recorded and its week given back."""
    def interrupt(signum, frame):
        stop_running_tasks()
        raise KeyboardInterrupt

    previous = {number: signal.signal(number, interrupt) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _interrupted(record: dict, states: _StateLog) -> Outcome:
    """The launcher has recorded the execution ABORTED and given its week back; this is the run's own record."""
    record |= {"status": INTERRUPTED, "failed_state": ", ".join(states.running),
               "states": _state_durations(states.finished), "error": "Interrupted",
               "cause": "stopped by Ctrl-C or SIGTERM"}
    return Outcome(record, states.finished)


def _failed(record: dict, states: _StateLog, failure: ExecutionFailed) -> Outcome:
    failed = next((event for event in states.finished.values() if event.status == "failed"), None)
    record |= {"status": FAILED, "failed_state": failed.name if failed else "?", "error": failure.error,
               "cause": failure.cause, "states": _state_durations(states.finished)}
    if failed:  # where `resume` continues, as RedriveExecution would
        record["resume_from"] = {"state": failed.name, "input": failed.input}
    return Outcome(record, states.finished, failure=failure)


def _succeeded(services: Services, record: dict, states: _StateLog, output: dict) -> Outcome:
    metrics = ModelStore(services.storage).metrics(output["run"]["model_version"])
    record |= {"status": SUCCEEDED, "run_date": output["run"]["run_date"],
               "states": _state_durations(states.finished), "auc": metrics["auc"], "bayes_auc": metrics["bayes_auc"],
               "realized_auc": output["published"].get("realized_auc"), "error": None, "cause": None,
               "failed_state": ""}
    record.pop("resume_from", None)
    return Outcome(record, states.finished, output=output, metrics=metrics)


def _state_durations(finished: dict[str, StateEvent]) -> dict[str, float]:
    return {name: round(event.ended - event.started, 2) for name, event in finished.items()}
