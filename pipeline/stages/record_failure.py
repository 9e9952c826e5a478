"""RecordFailure (Lambda, on any caught error): keep a durable record of why a run failed, and give back the week
if this execution holds it. Published results are left untouched; the record sits beside the run records.
"""
from __future__ import annotations

import datetime as dt
import logging

from pipeline.events import RecordFailureEvent
from pipeline.keys import failure_record_key
from pipeline.ports import Services
from pipeline.storage import write_json
from pipeline.week_lock import release_weeks_held_by

logger = logging.getLogger(__name__)


def record_failure(services: Services, event: RecordFailureEvent) -> dict:
    record = {
        "execution_name": event.execution_name,
        "run": event.state.run,
        "input": event.execution_input,
        "error": event.state.error_field("Error", "Unknown"),
        "cause": event.state.error_field("Cause", ""),
        "recorded_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    write_json(services.storage, failure_record_key(event.execution_name), record)
    released = release_weeks_held_by(services.storage, event.execution_name)
    logger.error("execution %s failed: %s", event.execution_name, record["error"],
                 extra={"error_type": record["error"], "cause": record["cause"]})
    return {**record, "weeks_released": released}
