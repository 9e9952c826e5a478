"""What each Lambda receives from the state machine, as typed models (the container's `RUN` is a `Run`)."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from pipeline.run import ExecutionInput, Name, Run, Strict


class CleanupEvent(Strict):
    input: ExecutionInput = ExecutionInput()
    execution_name: Name


class RunEvent(Strict):
    run: Run


class PublishEvent(Strict):
    run: Run
    expected_rows: Annotated[int, Field(ge=0)]


class StateError(BaseModel):
    """What a Catch puts at `$.error`."""
    Error: str = "Unknown"
    Cause: str = ""


class FailedState(BaseModel):
    """The state at the failure: loose on purpose, so that recording a failure never fails on its shape."""
    model_config = ConfigDict(extra="allow")
    run: dict | None = None  # absent when the run failed before its week was resolved
    error: StateError = StateError()


class RecordFailureEvent(Strict):
    execution_name: Name
    state: FailedState = FailedState()
