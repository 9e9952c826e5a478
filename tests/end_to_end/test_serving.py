"""The weekly run loads the serving store: every customer answered once Publish has pointed at the week, and a run
that fails half way through loading leaves the API answering with the week before, unchanged."""
import json

import pytest

from local_runtime.asl import ExecutionFailed
from local_runtime.launcher import execute_locally
from pipeline.execution.identity import Run
from pipeline.serving.api import ServingApi
from pipeline.serving.store import CUSTOMER
from pipeline.serving.what_if import WhatIf
from pipeline.warehouse.layout import scoring_prefix, shard_prefix
from pipeline.warehouse.objects import newest_attempt
from tools.synthetic.panel import land_synthetic_panel

CUSTOMERS, WEEKS = 1500, 9


@pytest.fixture
def panel(services, monkeypatch):
    monkeypatch.setenv("INFERENCE_ROWS_PER_SHARD", "600")  # three shards, loading the store in parallel
    land_synthetic_panel(services, CUSTOMERS, WEEKS, seed=11, if_missing=False)
    return services


def ask(api: ServingApi, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    answer = api.handle({"httpMethod": method, "path": path, "headers": {}, "queryStringParameters": None,
                         "body": json.dumps(body) if body else None, "isBase64Encoded": False,
                         "requestContext": {"stage": "local"}})
    return answer["statusCode"], json.loads(answer["body"])


def every_customer(api: ServingApi, customer_ids: list[str]) -> dict[str, dict]:
    answered = {}
    for start in range(0, len(customer_ids), 100):
        status, body = ask(api, "POST", "/v1/customers/risk", {"customer_ids": customer_ids[start:start + 100]})
        assert status == 200 and not body["not_found"]
        answered |= {risk["customer_id"]: risk for risk in body["risks"]}
    return answered


def assert_a_customers_own_row_as_a_what_if_scores_as_served(panel, api: ServingApi, served: dict) -> None:
    """The what-if route and Inference score alike: a customer's kept feature row, sent as a what-if, gets the
    probability and reasons the week served for that customer."""
    (row,) = panel.sql.query("SELECT * FROM engagement.features WHERE snapshot_date = DATE '2026-02-23' "
                             "AND sessions_7d = 0 ORDER BY customer_id LIMIT 1").to_pylist()
    customer = row.pop("customer_id")
    for not_sent in ("snapshot_date", "feature_version", "signup_date"):  # signup_date: tenure_days is in the row
        row.pop(not_sent)
    status, scored = ask(api, "POST", "/v1/score", {"row": row})
    assert status == 200 and scored["model_version"] == served[customer]["model_version"]
    assert scored["churn_probability"] == pytest.approx(served[customer]["churn_probability"], abs=1e-6)
    assert scored["reasons"] == served[customer]["reasons"]
    assert all(row.get(name) is None for name in scored["missing_features"])  # only what the row has no value for


def test_a_published_week_answers_for_every_customer_and_a_half_loaded_one_changes_nothing(panel):
    first = execute_locally({"run_date": "2026-02-23"}, execution_name="first", sleep=lambda seconds: None)
    api = ServingApi(lambda: panel.serving, lambda: WhatIf(lambda: panel.storage, cache_seconds=3_600))
    status, health = ask(api, "GET", "/v1/health")
    assert status == 200 and health["run_date"] == "2026-02-23" and health["customers"] == CUSTOMERS
    customer_ids = panel.sql.query("SELECT customer_id FROM engagement.predictions ORDER BY 1").column(0).to_pylist()
    before = every_customer(api, customer_ids)
    assert len(before) == CUSTOMERS
    assert {risk["model_version"] for risk in before.values()} == {first.output["run"]["model_version"]}
    reasons = [reason for risk in before.values() for reason in risk["reasons"]]
    assert all(len(risk["reasons"]) <= 3 for risk in before.values()) and min(r["contribution"] for r in reasons) > 0
    assert all(risk["reasons"] for risk in before.values() if risk["risk_band"] == "high")  # what raised it
    assert_a_customers_own_row_as_a_what_if_scores_as_served(panel, api, before)

    def break_one_shard(event) -> None:
        """Once the sets are written, make shard 1's input unreadable: shards 0 and 2 load their customers, then
        the Map fails on shard 1 (and on its retry)."""
        if event.name == "PrepareSets" and not event.scope and event.status == "succeeded":
            scoring = newest_attempt(panel.storage, scoring_prefix(Run.model_validate(event.output["run"])))
            for key in panel.storage.list_keys(shard_prefix(scoring, 1)):
                panel.storage.write_bytes(key, b"not parquet")

    with pytest.raises(ExecutionFailed):
        execute_locally({"run_date": "2026-03-02"}, execution_name="second", on_event=break_one_shard,
                        sleep=lambda seconds: None)
    loaded = panel.serving.get_items([(f"{CUSTOMER}{customer}", "second") for customer in customer_ids])
    assert 0 < len(loaded) < CUSTOMERS  # half loaded: the shards that ran wrote their customers
    assert ask(api, "GET", "/v1/health")[1] == health
    assert every_customer(api, customer_ids) == before  # and the API still answers with the week before
