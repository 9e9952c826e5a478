"""KeepFeatures: keep the weeks of feature rows UnloadFeatures computed as partitions of engagement.features."""
from pipeline.edge.handlers import lambda_handler
from pipeline.execution.events import KeepFeaturesEvent
from pipeline.stages.keep_features import keep_features
from pipeline.warehouse.ports import Services


@lambda_handler(KeepFeaturesEvent, state="KeepFeatures")
def handler(event: KeepFeaturesEvent, services: Services) -> dict:
    return keep_features(services, event.run, event.weeks)
