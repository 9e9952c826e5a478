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
    if "errorMessage" in details:
        return details["errorMessage"]
    if reason := details.get("QueryExecution", {}).get("Status", {}).get("StateChangeReason"):
        return f"the Athena query failed: {reason}"
    reasons = "; ".join(filter(None, (container.get("Reason") for container in details.get("Containers", []))))
    return (reasons + (f" (log: {details['LogFile']})" if "LogFile" in details else "")) if reasons else cause


class RecordFailureEvent(BaseModel):
    """What the template's EventBridge rule sends when an execution fails, times out or is aborted (locally, the
    launcher sends the same)."""
    model_config = ConfigDict(extra="allow")
    detail: ExecutionEnded

    @property
    def execution_name(self) -> str:
        return self.detail.name
