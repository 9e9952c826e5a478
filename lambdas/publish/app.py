"""Publish: check every customer was scored, write the metrics row, swap the catalog partitions."""
from pipeline.edge.handlers import lambda_handler
from pipeline.execution.events import PublishEvent
from pipeline.stages.publish import publish
from pipeline.warehouse.ports import Services


@lambda_handler(PublishEvent, state="Publish")
def handler(event: PublishEvent, services: Services) -> dict:
    return publish(services, event.run, event.expected_rows, event.execution_id)
