"""PrepareData: check the landed weeks, then write the training and scoring sets with Athena SQL."""
from pipeline.edge.handlers import lambda_handler
from pipeline.execution.events import RunEvent
from pipeline.stages.prepare_data import prepare_data
from pipeline.warehouse.ports import Services


@lambda_handler(RunEvent, state="PrepareData")
def handler(event: RunEvent, services: Services) -> dict:
    return prepare_data(services, event.run)
