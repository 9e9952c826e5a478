"""The AWS adapters of the ports: S3 storage, the Glue catalog, Athena, Step Functions' execution history and the
DynamoDB serving table. Each module imports only what it needs, and this one nothing until aws_services() is
called: the API's Lambda imports pipeline.aws.dynamodb_items without loading pyarrow or the other clients."""
from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.core.errors import ConfigError

if TYPE_CHECKING:
    import boto3

    from pipeline.core.settings import Settings
    from pipeline.warehouse.ports import Services


def aws_services(settings: Settings, boto3_session: boto3.Session | None = None) -> Services:
    import boto3

    from pipeline.aws.athena import AthenaEngine
    from pipeline.aws.dynamodb_items import DynamoItems
    from pipeline.aws.glue import GlueCatalog
    from pipeline.aws.s3 import S3Storage
    from pipeline.aws.states import StepFunctionsHistory
    from pipeline.warehouse.ports import Services

    if not settings.bucket:
        raise ConfigError("PIPELINE_BUCKET must name the pipeline's S3 bucket")
    session = boto3_session or boto3.Session()
    storage = S3Storage(settings.bucket, session.client("s3"))
    catalog = GlueCatalog(session.client("glue"))
    serving = (DynamoItems(settings.serving_table, session.client("dynamodb")) if settings.serving_table
               else NoServingTable())
    return Services(settings, storage, catalog, AthenaEngine(settings.athena_workgroup, settings.bucket, session),
                    StepFunctionsHistory(session.client("stepfunctions")), serving)


class NoServingTable:
    """The serving table where SERVING_TABLE is not set: the CLI's commands, which never load or read it, run
    without it; any use says what is missing."""

    def __getattr__(self, name: str):
        raise ConfigError("SERVING_TABLE must name the DynamoDB table the API serves from (the stack sets it for "
                          "its Lambdas and tasks)")
