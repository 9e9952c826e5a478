"""The ExecutionHistory port on Step Functions (GetExecutionHistory), through an injected boto3 client."""
from __future__ import annotations

from pipeline.warehouse.ports import StateTime

# Events that end an execution early: a state still open then is where it stopped.
EXECUTION_STOPPED = ("ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted")


class StepFunctionsHistory:
    def __init__(self, stepfunctions_client):
        self._client = stepfunctions_client

    def state_times(self, execution_id: str) -> dict[str, StateTime]:
        """Entered and Exited events by state name (a Distributed Map's iterations are child executions, so the
        parent's history stays small whatever the shard count)."""
        times: dict[str, StateTime] = {}
        pages = self._client.get_paginator("get_execution_history").paginate(executionArn=execution_id)
        for event in (event for page in pages for event in page["events"]):
            kind, at = event["type"], event["timestamp"].timestamp()
            if kind.endswith("StateEntered"):
                times.setdefault(event["stateEnteredEventDetails"]["name"], StateTime()).enter(at)
            elif kind.endswith("StateExited"):
                times.setdefault(event["stateExitedEventDetails"]["name"], StateTime()).leave(at)
            elif kind in EXECUTION_STOPPED:
                for state in times.values():
                    state.leave(at, stopped=True)
        return times
