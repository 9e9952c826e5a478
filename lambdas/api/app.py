"""The serving API behind API Gateway (REST, proxy integration): the routes of pipeline.serving.api over the DynamoDB
serving table, and what-if rows scored with the model from the S3 model store. API Gateway has checked the API key
and the usage plan's throttle before the event arrives.

A lookup loads the router, boto3's DynamoDB client and the store: no XGBoost, no pyarrow (tests/lambdas/test_api.py
proves which modules a cold lookup loads, and that a what-if loads them)."""
import os

import boto3

from pipeline.aws.dynamodb_items import DynamoItems
from pipeline.core.settings import load_settings
from pipeline.serving.api import ServingApi


def _what_if():
    from pipeline.aws.s3 import S3Storage
    from pipeline.serving.what_if import WhatIf

    settings = load_settings()
    return WhatIf(lambda: S3Storage(settings.bucket, boto3.client("s3")), settings.what_if_cache_seconds)


SERVING = ServingApi(lambda: DynamoItems(os.environ["SERVING_TABLE"], boto3.client("dynamodb")), _what_if)


def handler(event: dict, context: object) -> dict:
    return SERVING.handle(event, context)
