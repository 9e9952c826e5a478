"""POST /v1/ask: the assistant's Lambda behind API Gateway (Bedrock's Converse, Athena), and the same route table
answering locally behind `serve`, where /v1/ask goes to the assistant and every other path to the serving API."""
import json

import boto3
from botocore.stub import Stubber

from local_runtime.api_server import Resources
from pipeline.assistant.api import AssistantApi
from pipeline.assistant.bedrock import BedrockConverse
from pipeline.assistant.loop import Assistant
from pipeline.core.errors import ConfigError
from tests.lambdas.test_api import proxy_event
from tests.pipeline.assistant.scripted_models import Scripted, say, sql, tiny_engine

QUESTION = json.dumps({"question": "How many customers are at high risk?"})
COUNT_HIGH = "SELECT count(*) AS customers FROM engagement.predictions WHERE risk_band = 'high'"


def answer_of(response: dict) -> tuple[int, dict]:
    return response["statusCode"], json.loads(response["body"])


def test_ask_answers_with_the_sentence_the_sql_and_the_rows():
    with Scripted("bedrock", [sql(COUNT_HIGH), say("2 customers are at high risk.")]) as scripted:
        api = AssistantApi(lambda: Assistant(scripted.model, tiny_engine()))
        status, body = answer_of(api.handle(proxy_event("POST", "/v1/ask", QUESTION)))
    assert status == 200 and body["answered"] and body["answer"] == "2 customers are at high risk."
    assert body["sql"] == COUNT_HIGH.replace("count", "COUNT") + " LIMIT 1000"
    assert (body["columns"], body["rows"], body["row_count"]) == (["customers"], [[2]], 1)


def test_ask_refuses_a_bad_request_and_other_methods():
    api = AssistantApi(lambda: (_ for _ in ()).throw(AssertionError("no question reaches the assistant")))
    for body in ("not json", json.dumps({"question": ""}), json.dumps({"question": "x" * 1001}), json.dumps([])):
        status, answer = answer_of(api.handle(proxy_event("POST", "/v1/ask", body)))
        assert status == 400 and answer["error"] in ("bad_request", "bad_json"), body
    status, answer = answer_of(api.handle(proxy_event("GET", "/v1/ask")))
    assert status == 405 and answer["error"] == "method_not_allowed"


def test_no_model_configured_is_503_and_a_model_that_fails_is_502():
    def not_configured():
        raise ConfigError("no model is configured for `ask`")

    status, answer = answer_of(AssistantApi(not_configured).handle(proxy_event("POST", "/v1/ask", QUESTION)))
    assert status == 503 and answer["error"] == "assistant_not_configured"
    client = boto3.client("bedrock-runtime", region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        stubber.add_client_error("converse", "AccessDeniedException", "not allowed to invoke this model", 403)
        api = AssistantApi(lambda: Assistant(BedrockConverse("anthropic.claude-test", client), tiny_engine()))
        status, answer = answer_of(api.handle(proxy_event("POST", "/v1/ask", QUESTION)))
    assert status == 502 and answer["error"] == "model_unavailable" and "AccessDenied" not in answer["message"]


def test_the_lambda_uses_the_configured_bedrock_model_and_the_assistant_workgroup(monkeypatch):
    monkeypatch.setenv("BEDROCK_MODEL_ID", "anthropic.claude-test")
    monkeypatch.setenv("ATHENA_WORKGROUP", "churn-assistant")
    monkeypatch.setenv("PIPELINE_BUCKET", "churn-data")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    from lambdas.assistant.app import _assistant

    assistant = _assistant()
    assert assistant.model.model_id == "anthropic.claude-test"
    assert assistant.run.engine.workgroup == "churn-assistant"


def test_serve_routes_ask_to_the_assistant_and_the_rest_to_the_serving_api():
    class Answers:
        def __init__(self, name):
            self.name = name

        def handle(self, event, context=None):
            return {"statusCode": 200, "body": self.name}

    resources = Resources(Answers("serving"), Answers("assistant"))
    assert resources.handle(proxy_event("POST", "/v1/ask", QUESTION))["body"] == "assistant"
    assert resources.handle(proxy_event("GET", "/v1/health"))["body"] == "serving"
