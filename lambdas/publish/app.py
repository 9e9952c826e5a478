"""Publish: check every customer was scored, write the metrics row, swap the catalog partitions."""
from pipeline.door import lambda_handler
from pipeline.events import PublishEvent
from pipeline.ports import Services
from pipeline.stages.publish import publish


@lambda_handler(PublishEvent, state="Publish")
def handler(event: PublishEvent, services: Services) -> dict:
    return publish(services, event.run, event.expected_rows, event.execution_id)
