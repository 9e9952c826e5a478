"""RecordFailure (Lambda, on any caught error): keep a durable record of why a run failed.

Published results are left untouched; the record sits beside the launcher's run records.
"""
from __future__ import annotations

import datetime as dt
import logging

from pipeline.events import RecordFailureEvent
from pipeline.keys import failure_record_key
from pipeline.ports import Services
from pipeline.storage import write_json

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
    logger.error("execution %s failed: %s", event.execution_name, record["error"],
                 extra={"error_type": record["error"], "cause": record["cause"]})
    return record
