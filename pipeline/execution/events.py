"""What each Lambda receives from the state machine, as typed models (the container's `RUN` is a `Run`)."""
from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from pipeline.execution.identity import ExecutionInput, Name, Run, Strict


class CleanupEvent(Strict):
    input: ExecutionInput = ExecutionInput()
    execution_name: Name


class RunEvent(Strict):
    run: Run


class KeepFeaturesEvent(Strict):
    run: Run
    weeks: dict[str, dict[str, str]]  # week -> what its feature rows are made from (PrepareData's features.weeks)


class PublishEvent(Strict):
    run: Run
    expected_rows: Annotated[int, Field(ge=0)]
    execution_id: str  # $$.Execution.Id: its history gives the runs row each state's seconds


class ExecutionEnded(BaseModel):
    """`detail` of EventBridge's "Step Functions Execution Status Change" event: loose on purpose, so that
    recording a failure never fails on its shape."""
    model_config = ConfigDict(extra="allow")
    name: Name
    status: str = "FAILED"
    input: Any = None  # the execution's input, as JSON text
    error: str | None = None
    cause: str | None = None
    redriveCount: int = 0  # the attempt that ended (0, then 1 after the first RedriveExecution...)
    executionArn: str | None = None


def root_cause(cause: str) -> str:
    """The message a person needs from a failed state's cause: Lambda's, ECS's and Athena's causes are JSON
    documents of their own shapes; any other cause (or one whose shape is unknown) is returned whole."""
    try:
        details = json.loads(cause)
    except ValueError:
        return cause
    if not isinstance(details, dict):
        return cause
    if message := _text(details.get("errorMessage")):
        return message
    if reason := _text(_field(details, "QueryExecution", "Status", "StateChangeReason")):
        return f"the Athena query failed: {reason}"
    return _task_stopped(details) or cause


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _field(document: object, *path: str) -> object:
    """document[path[0]][path[1]]…, or None where a step is missing or not an object."""
    for name in path:
        document = document.get(name) if isinstance(document, dict) else None
    return document


def _task_stopped(task: dict) -> str:
    """Why an ECS task stopped: its containers' reasons, else (a real task-state change often has none) what each
    container exited with and the task's StoppedReason; then the local log file, if named. Empty if none is said."""
    listed = task.get("Containers")
    containers = [container for container in listed if isinstance(container, dict)] if isinstance(listed, list) else []
    reasons = "; ".join(filter(None, (_text(container.get("Reason")) for container in containers)))
    if not reasons:
        exits = "; ".join(filter(None, map(_container_exit, containers)))
        reasons = ": ".join(filter(None, (exits, _text(task.get("StoppedReason")))))
    return f"{reasons} (log: {task['LogFile']})" if reasons and "LogFile" in task else reasons


def _container_exit(container: dict) -> str:
    """'container NAME exited CODE', of whichever of the two ECS gave."""
    name = f"container {container['Name']}" if container.get("Name") else ""
    code = f"exited {container['ExitCode']}" if container.get("ExitCode") is not None else ""
    return " ".join(filter(None, (name, code)))


class RecordFailureEvent(BaseModel):
    """What the template's EventBridge rule sends when an execution fails, times out or is aborted (locally, the
    launcher sends the same)."""
    model_config = ConfigDict(extra="allow")
    detail: ExecutionEnded

    @property
    def execution_name(self) -> str:
        return self.detail.name
