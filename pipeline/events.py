"""What each Lambda receives from the state machine, as typed models (the container's `RUN` is a `Run`)."""
from __future__ import annotations

from typing import Annotated, Any

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


class FailedState(BaseModel):
    """The state at the failure: loose on purpose, so that recording a failure never fails on its shape."""
    model_config = ConfigDict(extra="allow")
    run: Any = None  # absent when the run failed before its week was resolved
    error: Any = None  # what a Catch put at `$.error`: {"Error": …, "Cause": …}

    def error_field(self, name: str, default: str) -> str:
        return str(self.error.get(name, default)) if isinstance(self.error, dict) else default


class RecordFailureEvent(BaseModel):
    """Loose too: whatever the execution looked like, its failure gets recorded."""
    execution_name: Name
    execution_input: Any = None
    state: FailedState = FailedState()
