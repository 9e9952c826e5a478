"""`engagement-pipeline serve` as a process on loopback, called with a real HTTP client: every route and every
refusal, as API Gateway and the API's Lambda answer them. Each server stops by itself (--max-seconds)."""
import datetime as dt
import http.client
import json
import subprocess
import sys
import threading

import pytest

from local_runtime.api_server import ApiServer, Gateway
from pipeline.core.settings import REPO_ROOT
from pipeline.serving.api import ServingApi
from pipeline.serving.store import Reason, Risk, ServedWeek, expiry, load_risks, publish_week
from tests.conftest import store_tiny_model

KEY = "test-key-123"
WEEKS = (dt.date(2026, 3, 2), dt.date(2026, 3, 9))
LATER = expiry(days=365)


def risk(customer: str, run_date: dt.date, probability: float) -> Risk:
    return Risk(customer, run_date.isoformat(), probability, "high" if probability >= 0.5 else "low", "m1",
                [Reason("sessions_7d", 0, 0.9), Reason("plan", "free", 0.2), Reason("tenure_days", 40, 0.05)])


@pytest.fixture
def published(services):
    """Two weeks published to the local store: c1 and c2 the first week, c1 alone the second, scored by model m1."""
    store_tiny_model(services.storage, "m1")
    for run_date, customers in zip(WEEKS, (["c1", "c2"], ["c1"])):
        version = f"exec-{run_date}"
        load_risks(services.serving, [risk(customer, run_date, 0.6) for customer in customers], version, LATER)
        publish_week(services.serving, ServedWeek(run_date.isoformat(), version, "m1", "2026-03-10T06:00:00+00:00",
                                                  len(customers)), LATER)
    return services


class Server:
    def __init__(self, home, *options: str, key: str | None = KEY):
        env = {"PIPELINE_HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)}
        if key:
            env["PIPELINE_API_KEY"] = key
        self.process = subprocess.Popen([sys.executable, "-m", "tools.cli.app", "serve", "--port", "0",
                                         "--max-seconds", "60", *options], cwd=REPO_ROOT, env=env,
                                        stdout=subprocess.PIPE, text=True)
        self.lines = []
        for line in self.process.stdout:
            self.lines.append(line)
            if line.startswith("serving http://"):
                self.port = int(line.split(":")[2].split("/")[0])
                break

    def call(self, method: str, path: str, body: bytes | str | None = None, key: str | None = KEY) -> tuple:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"x-api-key": key} if key else {}
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        payload = answer.read().decode()
        connection.close()
        return answer.status, json.loads(payload) if payload else None, dict(answer.getheaders())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def server(published, home):
    running = Server(home)
    yield running
    running.stop()


def test_health_names_the_week_and_model_served(server):
    status, body, _ = server.call("GET", "/v1/health")
    assert status == 200
    assert body == {"status": "ok", "run_date": "2026-03-09", "model_version": "m1", "customers": 1,
                    "published_at": "2026-03-10T06:00:00+00:00"}


def test_a_customers_risk_in_the_newest_week_or_an_earlier_one(server):
    status, body, _ = server.call("GET", "/v1/customers/c1/risk")
    assert status == 200 and body["run_date"] == "2026-03-09" and body["churn_probability"] == 0.6
    assert body["reasons"][0] == {"feature": "sessions_7d", "value": 0, "contribution": 0.9}
    status, body, _ = server.call("GET", "/v1/customers/c2/risk?run_date=2026-03-02")
    assert status == 200 and body["run_date"] == "2026-03-02"


def test_a_batch_answers_for_every_id_and_names_those_not_scored(server):
    status, body, _ = server.call("POST", "/v1/customers/risk", json.dumps({"customer_ids": ["c1", "c2"]}))
    assert status == 200
    assert [row["customer_id"] for row in body["risks"]] == ["c1"] and body["not_found"] == ["c2"]


def test_a_what_if_row_is_scored_with_the_served_model_then_answered_from_the_cache(server):
    row = json.dumps({"row": {"sessions_7d": 0, "plan": "free", "signup_date": "2025-06-01"}})
    status, body, _ = server.call("POST", "/v1/score", row)
    assert status == 200 and body["model_version"] == "m1" and body["run_date"] == "2026-03-09"
    assert body["risk_band"] == "high" and body["reasons"][0]["feature"] == "sessions_7d" and not body["cached"]
    status, again, _ = server.call("POST", "/v1/score", row)
    assert status == 200 and again == {**body, "cached": True}


def test_a_bad_what_if_row_is_422_naming_the_field_and_the_rule(server):
    status, body, _ = server.call("POST", "/v1/score", json.dumps({"row": {"sessions_7d": -2}}))
    assert status == 422
    assert (body["error"], body["field"], body["rule"]) == ("invalid_row", "sessions_7d", "non_negative")


@pytest.mark.parametrize("method, path, body, status, error", [
    ("GET", "/v1/customers/c2/risk", None, 404, "unknown_customer"),  # not scored in the newest week
    ("GET", "/v1/customers/c1/risk?run_date=2026-02-23", None, 404, "week_not_published"),
    ("GET", "/v1/customers/bad%20id/risk", None, 400, "bad_customer_id"),
    ("GET", "/v1/customers/c1/risk?run_date=next-week", None, 400, "bad_run_date"),
    ("GET", "/v1/customers/c1/risk?run_date=2026-02-30", None, 400, "bad_run_date"),
    ("POST", "/v1/customers/risk", "not json", 400, "bad_json"),
    ("POST", "/v1/customers/risk", json.dumps({"customer_ids": [f"c{i}" for i in range(101)]}), 400, "bad_request"),
    ("POST", "/v1/customers/risk", json.dumps({"customer_ids": ["ok", "no way"]}), 400, "bad_customer_id"),
    ("POST", "/v1/customers/risk", json.dumps({"customer_ids": ["c1"], "pad": "x" * 70_000}), 413, "body_too_large"),
    ("DELETE", "/v1/health", None, 405, "method_not_allowed"),
    ("GET", "/v1/customers/risk", None, 405, "method_not_allowed"),
    ("GET", "/v1/score", None, 405, "method_not_allowed"),
    ("POST", "/v1/score", json.dumps({"row": {"sessions_7d": 1}, "pad": "x" * 70_000}), 413, "body_too_large"),
    ("GET", "/v2/anything", None, 404, "no_such_route"),
])
def test_bad_requests_get_their_status_and_a_json_error(server, method, path, body, status, error):
    answered, payload, headers = server.call(method, path, body)
    assert (answered, payload["error"]) == (status, error)
    assert "Traceback" not in payload["message"]
    if status == 405:
        assert headers["Allow"] in ("GET", "POST")


def test_each_thread_of_the_server_answers_with_a_route_table_of_its_own(services):
    """The router keeps the request it answers on itself (a Lambda answers one at a time): two threads sharing one
    mixed their requests up (1 in ~900 lookups lost its customer id under load)."""
    server = ApiServer(("127.0.0.1", 0), lambda: ServingApi(lambda: services.serving, lambda: None),
                       Gateway(KEY, 1.0, 1), None)
    try:
        seen = []
        threads = [threading.Thread(target=lambda: seen.append((server.api(), server.api()))) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.server_close()
    (first, again), (second, _) = seen
    assert first is again and first is not second


def test_a_missing_key_is_401_and_a_wrong_one_403(server):
    assert server.call("GET", "/v1/health", key=None)[:2] == (401, {"error": "missing_api_key", "message":
                                                                    "send your API key in the x-api-key header"})
    assert server.call("GET", "/v1/health", key="guess")[0] == 403


def test_a_key_over_its_rate_gets_429_with_retry_after(published, home):
    server = Server(home, "--rate", "0.5", "--burst", "2")
    try:
        statuses = [server.call("GET", "/v1/health")[0] for _ in range(3)]
        status, body, headers = server.call("GET", "/v1/health")
    finally:
        server.stop()
    assert statuses == [200, 200, 429] and status == 429 and int(headers["Retry-After"]) >= 1


def test_a_store_that_fails_is_a_500_without_a_traceback(published, home):
    (home / "serving.sqlite3").write_bytes(b"this is not a database" * 100)
    for stale in home.glob("serving.sqlite3-*"):
        stale.unlink()
    server = Server(home)
    try:
        status, body, _ = server.call("GET", "/v1/customers/c1/risk")
    finally:
        server.stop()
    assert status == 500 and body == {"error": "internal_error",
                                      "message": "the request failed on the server; it is logged"}


def test_without_a_key_in_the_environment_one_is_generated_and_shown_once(published, home):
    first = Server(home, key=None)
    first.stop()
    shown = [line for line in first.lines if line.startswith("API key (generated")]
    key = (home / "api_key").read_text().strip()
    assert len(shown) == 1 and key in shown[0]
    second = Server(home, key=None)
    try:
        assert second.call("GET", "/v1/health", key=key)[0] == 200
    finally:
        second.stop()
    assert not any(line.startswith("API key") for line in second.lines)
