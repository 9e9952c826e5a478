"""The API's Lambda behind API Gateway: proxy events in, the same answers as the local server, and a cold lookup
that loads the router and the DynamoDB client only (no XGBoost, no pyarrow)."""
import datetime as dt
import json
import subprocess
import sys

import boto3

from pipeline.aws.dynamodb_items import DynamoItems
from pipeline.core.settings import REPO_ROOT
from pipeline.serving.store import Reason, Risk, ServedWeek, expiry, load_risks, publish_week
from tests.conftest import create_serving_table

WEEK = dt.date(2026, 3, 9)
LATER = expiry(days=365)
HEAVY = ("xgboost", "sklearn", "scipy", "pyarrow", "pandas", "numpy", "awswrangler", "duckdb")


def proxy_event(method: str, path: str, body: str | None = None, query: dict | None = None) -> dict:
    """What API Gateway's REST proxy integration sends, as its documentation shows it (trimmed)."""
    return {"resource": "/{proxy+}", "path": path, "httpMethod": method, "headers": {"x-api-key": "k"},
            "multiValueHeaders": {"x-api-key": ["k"]}, "queryStringParameters": query,
            "multiValueQueryStringParameters": {key: [value] for key, value in (query or {}).items()} or None,
            "pathParameters": {"proxy": path.lstrip("/")}, "stageVariables": None,
            "requestContext": {"resourcePath": "/{proxy+}", "httpMethod": method, "stage": "v1",
                               "identity": {"apiKey": "k", "sourceIp": "203.0.113.9"}, "requestId": "r-1"},
            "body": body, "isBase64Encoded": False}


def test_the_lambda_answers_proxy_events_from_the_dynamodb_table(mocked_aws, monkeypatch):
    table = DynamoItems(create_serving_table(boto3.client("dynamodb")), boto3.client("dynamodb"))
    risk = Risk("c1", WEEK.isoformat(), 0.7, "high", "m1", [Reason("sessions_7d", 0, 0.9)])
    load_risks(table, [risk], "exec-1", LATER)
    publish_week(table, ServedWeek(WEEK.isoformat(), "exec-1", "m1", "2026-03-10T06:00:00+00:00", 1), LATER)
    monkeypatch.setenv("SERVING_TABLE", table.table_name)
    from lambdas.api.app import SERVING, handler
    SERVING._table = None  # the module may have been imported by another test, with another table

    answer = handler(proxy_event("GET", "/v1/customers/c1/risk"), None)
    assert answer["statusCode"] == 200 and json.loads(answer["body"]) == risk.to_json()
    answer = handler(proxy_event("POST", "/v1/customers/risk", json.dumps({"customer_ids": ["c1", "c9"]})), None)
    assert json.loads(answer["body"])["not_found"] == ["c9"]
    answer = handler(proxy_event("GET", "/v1/customers/c1/risk", query={"run_date": "2026-03-02"}), None)
    assert answer["statusCode"] == 404 and json.loads(answer["body"])["error"] == "week_not_published"


def test_a_cold_lookup_loads_no_model_library_and_no_pyarrow():
    script = f"""
import json, os, sys
os.environ.update(SERVING_TABLE="churn-serving", AWS_DEFAULT_REGION="eu-west-1", AWS_ACCESS_KEY_ID="x",
                  AWS_SECRET_ACCESS_KEY="x")
from moto import mock_aws
before = set(sys.modules)
with mock_aws():
    import boto3
    from tests.conftest import create_serving_table
    create_serving_table(boto3.client("dynamodb"))
    loaded_by_moto = set(sys.modules) - before
    from lambdas.api.app import handler
    answer = handler({proxy_event("GET", "/v1/customers/c1/risk")!r}, None)
loaded = {{name.partition(".")[0] for name in set(sys.modules) - before - loaded_by_moto}}
print(json.dumps({{"status": answer["statusCode"], "loaded": sorted(loaded)}}))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["status"] == 404  # nothing published: a real lookup, answered
    assert not set(result["loaded"]) & set(HEAVY), result["loaded"]
    assert {"aws_lambda_powertools", "lambdas", "pipeline"} <= set(result["loaded"])
