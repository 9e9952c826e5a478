"""RecordFailure: keep a durable record of why a run failed; published results are left untouched."""
from pipeline.edge.handlers import lambda_handler
from pipeline.execution.events import RecordFailureEvent
from pipeline.stages.record_failure import record_failure
from pipeline.warehouse.ports import Services


@lambda_handler(RecordFailureEvent, state=None)  # called by EventBridge, not a state
def handler(event: RecordFailureEvent, services: Services) -> dict:
    return record_failure(services, event)
