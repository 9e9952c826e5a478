"""The ExecutionHistory port locally: the executor's state events, which the launcher appends to
`logs/<execution>/history.jsonl` as they happen (a resumed execution appends to the same file, as Step Functions
keeps one history across redrives)."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.warehouse.ports import StateTime

if TYPE_CHECKING:
    from local_runtime.asl import StateEvent

HISTORY_FILE = "history.jsonl"


def history_path(logs: Path, execution_name: str) -> Path:
    return logs / execution_name / HISTORY_FILE


def append_event(path: Path, event: StateEvent) -> None:
    fields = {name: value for name, value in asdict(event).items() if name in ("name", "scope", "status", "started",
                                                                                "ended")}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as history:
        history.write(json.dumps(fields) + "\n")


class LocalExecutionHistory:
    def __init__(self, logs: Path):
        self.logs = logs

    def state_times(self, execution_id: str) -> dict[str, StateTime]:
        """The top-level states' times (a Map iteration's or a branch's states have a scope)."""
        from local_runtime.asl.events import FAILED, RETRIED, STARTED  # start-up: asl/__init__ loads the executor

        times: dict[str, StateTime] = {}
        path = history_path(self.logs, execution_id.rsplit(":", 1)[-1])  # the name ends the execution ARN
        for line in path.read_text().splitlines():
            event = json.loads(line)
            if event["scope"] or event["status"] == RETRIED:  # a retry goes on within the same visit
                continue
            state = times.setdefault(event["name"], StateTime())
            if event["status"] == STARTED:
                state.enter(event["started"])
            else:
                state.leave(event["ended"], stopped=event["status"] == FAILED)
        return times
