"""The serving API behind API Gateway (REST, proxy integration): the routes of pipeline.serving.api over the DynamoDB
serving table. API Gateway has checked the API key and the usage plan's throttle before the event arrives.

A lookup loads the router, boto3's DynamoDB client and the store: no XGBoost, no pyarrow (tests/lambdas/test_api.py
proves which modules a cold lookup loads)."""
import os

import boto3

from pipeline.aws.dynamodb_items import DynamoItems
from pipeline.serving.api import ServingApi

SERVING = ServingApi(lambda: DynamoItems(os.environ["SERVING_TABLE"], boto3.client("dynamodb")))


def handler(event: dict, context: object) -> dict:
    return SERVING.handle(event, context)
