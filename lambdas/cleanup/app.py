"""Cleanup (first state): resolve the run's identity from the execution input, take the week, remove its stale
outputs."""
from pipeline.core import logs
from pipeline.edge.handlers import lambda_handler, run_fields
from pipeline.execution.events import CleanupEvent
from pipeline.execution.identity import resolve_run
from pipeline.stages.cleanup import cleanup
from pipeline.warehouse.ports import Services


@lambda_handler(CleanupEvent, state="Cleanup")
def handler(event: CleanupEvent, services: Services) -> dict:
    run = resolve_run(services, event.input, event.execution_name)
    logs.bind(**run_fields(run))
    return {"run": run.to_json_dict(), "files_removed": cleanup(services, run)}
