"""Record failure: keep a durable record of why a run failed; published results are left untouched."""
import datetime as dt

from pipeline.layout import failure_record_key
from pipeline.services import build_services
from pipeline.storage import write_json


def handler(event: dict, context=None) -> dict:
    state = event.get("state") or {}
    error = state.get("error") or {}
    record = {
        "execution_name": event["execution_name"],
        "run": state.get("run"),  # absent when the run failed before its week was resolved
        "error": error.get("Error", "Unknown"),
        "cause": error.get("Cause", ""),
        "recorded_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    write_json(build_services().storage, failure_record_key(event["execution_name"]), record)
    return record
