"""POST /v1/ask behind API Gateway: a Bedrock model (BEDROCK_MODEL_ID, a stack parameter) writes read-only SQL,
the guard checks it, and Athena runs it in the assistant's workgroup, whose bytes-scanned cutoff bounds each query."""
import os

import boto3

from pipeline.assistant.api import AssistantApi
from pipeline.assistant.bedrock import BedrockConverse
from pipeline.assistant.loop import Assistant, EngineRunner
from pipeline.aws.athena import AthenaEngine
from pipeline.core.settings import load_settings


def _assistant() -> Assistant:
    settings = load_settings()
    engine = AthenaEngine(settings.athena_workgroup, settings.bucket)
    return Assistant(BedrockConverse(os.environ["BEDROCK_MODEL_ID"], boto3.client("bedrock-runtime")),
                     EngineRunner(engine))


ASSISTANT = AssistantApi(_assistant)


def handler(event: dict, context: object) -> dict:
    return ASSISTANT.handle(event, context)
