"""RecordFailure (Lambda, called by an EventBridge rule when an execution fails, times out or is aborted): keep a
durable record of why, and give back the week the execution held. Published results are left untouched.

It is not a state of the machine, so a failed execution stops at the failing state, where RedriveExecution (or
`engagement-pipeline resume` locally) continues it.
"""
from __future__ import annotations

import datetime as dt
import json
import logging

from pipeline.events import RecordFailureEvent
from pipeline.keys import failure_record_key
from pipeline.ports import Services
from pipeline.storage import write_json
from pipeline.week_lock import release_weeks_held_by, week_of_lock

logger = logging.getLogger(__name__)


def record_failure(services: Services, event: RecordFailureEvent) -> dict:
    ended = event.detail
    released = release_weeks_held_by(services.storage, ended.name)
    execution_input = _parsed(ended.input)
    requested = execution_input.get("run_date") if isinstance(execution_input, dict) else None
    record = {
        "execution_name": ended.name,
        "status": ended.status,
        "run_date": week_of_lock(released[0]) if released else requested,
        "input": execution_input,
        "error": ended.error or ended.status,
        "cause": ended.cause or "",
        "recorded_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    write_json(services.storage, failure_record_key(ended.name), record)
    logger.error("execution %s ended %s: %s", ended.name, ended.status, record["error"],
                 extra={"error_type": record["error"], "cause": record["cause"]})
    return {**record, "weeks_released": released}


def _parsed(text: object) -> object:
    try:
        return json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return text
