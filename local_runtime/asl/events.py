"""What an execution reports: one StateEvent per state start, retry and end, and the final result."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STARTED = "started"
SUCCEEDED = "succeeded"
FAILED = "failed"
CAUGHT = "caught"
RETRIED = "retried"


@dataclass
class StateEvent:
    """A state started (status "started", ended None) or ended an attempt.

    Ending statuses: "succeeded", "failed" (uncaught), "caught" (a Catcher chose the next state), "retried".
    """

    name: str
    type: str
    started: float
    ended: float | None
    status: str
    input: Any = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    # Where the state runs: "" at top level, e.g. "ScoreAll[3]" in Map iteration 3, "Both.Branches[1]" in a branch.
    scope: str = ""


@dataclass
class ExecutionResult:
    status: str
    output: Any
    history: list[StateEvent]
    execution_id: str
