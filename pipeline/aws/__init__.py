"""The AWS adapters of the ports: S3 storage, the Glue catalog, Athena and Step Functions' execution history."""
from __future__ import annotations

import boto3

from pipeline.aws.athena import AthenaEngine
from pipeline.aws.glue import GlueCatalog
from pipeline.aws.s3 import S3Storage
from pipeline.aws.states import StepFunctionsHistory
from pipeline.core.errors import ConfigError
from pipeline.core.settings import Settings
from pipeline.warehouse.ports import Services

__all__ = ["AthenaEngine", "GlueCatalog", "S3Storage", "StepFunctionsHistory", "aws_services"]


def aws_services(settings: Settings, boto3_session: boto3.Session | None = None) -> Services:
    if not settings.bucket:
        raise ConfigError("PIPELINE_BUCKET must name the pipeline's S3 bucket")
    session = boto3_session or boto3.Session()
    storage = S3Storage(settings.bucket, session.client("s3"))
    catalog = GlueCatalog(session.client("glue"))
    return Services(settings, storage, catalog, AthenaEngine(settings.athena_workgroup, session),
                    StepFunctionsHistory(session.client("stepfunctions")))
