"""The API's Lambda behind API Gateway: proxy events in, the same answers as the local server, and a cold lookup
that loads the router and the DynamoDB client only (no XGBoost, no pyarrow)."""
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import boto3

from pipeline.aws.dynamodb_items import DynamoItems
from pipeline.core.settings import REPO_ROOT
from pipeline.serving.store import Reason, Risk, ServedWeek, expiry, load_risks, publish_week
from tests.conftest import create_serving_table, store_tiny_model

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


def test_the_lambda_scores_a_what_if_row_with_the_model_in_s3(aws):
    store_tiny_model(aws.storage, "m1")
    publish_week(aws.serving, ServedWeek(WEEK.isoformat(), "exec-1", "m1", "2026-03-10T06:00:00+00:00", 1), LATER)
    from lambdas.api.app import SERVING, handler
    SERVING._table = SERVING._what_if = None  # the module may have been imported by another test

    answer = handler(proxy_event("POST", "/v1/score", json.dumps({"row": {"sessions_7d": 0}})), None)
    assert answer["statusCode"] == 200, answer["body"]
    assert json.loads(answer["body"])["model_version"] == "m1"


def test_a_cold_lookup_loads_no_model_library_and_a_what_if_loads_xgboost(services):
    """The image test of the API: which modules each route loads in a fresh process. The model's files come from a
    local store, uploaded with boto3 alone, so nothing but the handler loads a library."""
    store_tiny_model(services.storage, "m1")
    models = {str(path.relative_to(services.storage.root)): str(path)
              for path in Path(services.storage.root, "models").rglob("*") if path.is_file()}
    week = ServedWeek(WEEK.isoformat(), "exec-1", "m1", "2026-03-10T06:00:00+00:00", 1)
    script = f"""
import json, os, sys
os.environ.update(SERVING_TABLE="churn-serving", PIPELINE_BUCKET="churn-data", AWS_DEFAULT_REGION="eu-west-1",
                  AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
from moto import mock_aws
before = set(sys.modules)
with mock_aws():
    import boto3
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(TableName="churn-serving", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{{"AttributeName": "pk", "KeyType": "HASH"}},
                                     {{"AttributeName": "sk", "KeyType": "RANGE"}}],
                          AttributeDefinitions=[{{"AttributeName": "pk", "AttributeType": "S"}},
                                                {{"AttributeName": "sk", "AttributeType": "S"}}])
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="churn-data", CreateBucketConfiguration={{"LocationConstraint": "eu-west-1"}})
    for key, path in {models!r}.items():
        s3.upload_file(path, "churn-data", key)
    loaded_by_moto = set(sys.modules) - before
    from lambdas.api.app import SERVING, handler
    from pipeline.serving.store import ServedWeek, publish_week
    publish_week(SERVING.table, ServedWeek(**{vars(week)!r}), {LATER})
    lookup = handler({proxy_event("GET", "/v1/customers/c1/risk")!r}, None)
    after_lookup = set(sys.modules)
    score = handler({proxy_event("POST", "/v1/score", json.dumps({"row": {"sessions_7d": 0}}))!r}, None)
    after_score = set(sys.modules)
top = lambda names: sorted({{name.partition(".")[0] for name in names - before - loaded_by_moto}})
print(json.dumps({{"statuses": [lookup["statusCode"], score["statusCode"]], "lookup": top(after_lookup),
                  "score": top(after_score)}}))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["statuses"] == [404, 200]  # c1 was not scored that week: a real lookup, answered
    assert not set(result["lookup"]) & set(HEAVY), result["lookup"]
    assert {"aws_lambda_powertools", "lambdas", "pipeline"} <= set(result["lookup"])
    assert {"xgboost", "pyarrow", "numpy"} <= set(result["score"])
