"""Cleanup (first state): resolve the run's week, then remove its stale temporary outputs."""
from pipeline.cleanup import clean_run
from pipeline.runs import resolve_run
from pipeline.services import build_services


def handler(event: dict, context=None) -> dict:
    services = build_services()
    run = resolve_run(services, event.get("input") or {}, event["execution_name"])
    return {**run.to_dict(), **clean_run(services, run.run_date)}
