"""PrepareData: check the landed weeks, then write the training and scoring sets with Athena SQL."""
from pipeline.door import lambda_handler
from pipeline.events import RunEvent
from pipeline.ports import Services
from pipeline.stages.prepare_data import prepare_data


@lambda_handler(RunEvent, state="PrepareData")
def handler(event: RunEvent, services: Services) -> dict:
    return prepare_data(services, event.run)
