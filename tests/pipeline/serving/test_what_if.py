"""What-if rows: checked field by field against the input contract, normalised so that one row in any spelling is
one question, scored with the served week's model as Inference scores, and answered from the cache for an hour."""
import datetime as dt
import json
import time

import numpy as np
import pyarrow as pa
import pytest

from local_runtime.api_server import proxy_event
from pipeline.model.features import feature_matrix
from pipeline.model.scorer import Scorer, load_booster
from pipeline.model.store import ModelStore
from pipeline.serving.api import ServingApi
from pipeline.serving.store import ServedWeek, expiry, publish_week
from pipeline.serving.what_if import InvalidRow, WhatIf, cache_key, normalised_row
from tests.conftest import store_tiny_model

AS_OF = dt.date(2026, 3, 9)
WEEK = ServedWeek(AS_OF.isoformat(), "exec-1", "m1", "2026-03-10T06:00:00+00:00", 200)


def test_one_row_in_any_spelling_is_one_question():
    plain = normalised_row({"sessions_7d": 3, "plan": "free", "minutes_7d": 10, "tenure_days": 68}, AS_OF)
    spelled = normalised_row({"plan": " free ", "sessions_7d": 3.0, "minutes_7d": 10.0, "signup_date": "2025-12-31",
                              "country": None, "device": "  "}, AS_OF)
    assert plain == spelled == {"minutes_7d": 10.0, "plan": "free", "sessions_7d": 3, "tenure_days": 68}
    assert cache_key("m1", plain) == cache_key("m1", spelled) != cache_key("m2", plain)
    assert cache_key("m1", plain) != cache_key("m1", {**plain, "sessions_7d": 4})


@pytest.mark.parametrize("row, field, rule", [
    ({"sessions_7d": 1, "sessions_8d": 2}, "sessions_8d", "known_field"),
    ({"sessions_7d": 1, "customer_id": "c1"}, "customer_id", "not_a_feature"),
    ({"sessions_7d": 1, "snapshot_date": "2026-03-09"}, "snapshot_date", "not_a_feature"),
    ({"sessions_7d": -1}, "sessions_7d", "non_negative"),
    ({"sessions_7d": 1, "revenue_30d": -0.5}, "revenue_30d", "non_negative"),
    ({"sessions_7d": "3"}, "sessions_7d", "bigint"),
    ({"sessions_7d": 2.5}, "sessions_7d", "bigint"),
    ({"sessions_7d": True}, "sessions_7d", "bigint"),
    ({"sessions_7d": 2 ** 60}, "sessions_7d", "bigint"),
    ({"sessions_7d": 1, "minutes_7d": "ten"}, "minutes_7d", "double"),
    ({"sessions_7d": 1, "auto_renew": "yes"}, "auto_renew", "boolean"),
    ({"sessions_7d": 1, "plan": 3}, "plan", "string"),
    ({"sessions_7d": 1, "plan": "x" * 257}, "plan", "string"),
    ({"sessions_7d": 1, "signup_date": "09/03/2026"}, "signup_date", "date"),
    ({"sessions_7d": 1, "signup_date": "2026-02-30"}, "signup_date", "date"),
    ({"sessions_7d": 1, "signup_date": "2026-03-10"}, "signup_date", "not_after_week"),
    ({"sessions_7d": 1, "signup_date": "2026-01-01", "tenure_days": 67}, "signup_date", "one_of"),
    ({"sessions_7d": 1, "active_weeks_4w": 5}, "active_weeks_4w", "at_most_4"),
    ({"plan": "free"}, "sessions_7d", "required"),
    ({"sessions_7d": None}, "sessions_7d", "required"),
    (["sessions_7d", 1], "row", "object"),
])
def test_a_bad_row_is_refused_naming_the_field_and_the_rule(row, field, rule):
    with pytest.raises(InvalidRow) as refused:
        normalised_row(row, AS_OF)
    assert (refused.value.field, refused.value.rule) == (field, rule)
    assert field in refused.value.message


@pytest.fixture
def what_if(services):
    store_tiny_model(services.storage, "m1", extra={"tenure_days": np.arange(200) % 90})
    return WhatIf(lambda: services.storage, cache_seconds=3_600)


def test_a_row_is_scored_as_inference_scores_it_with_reasons_and_the_features_it_lacks(services, what_if):
    row = normalised_row({"sessions_7d": 0, "plan": "free"}, AS_OF)
    scored = what_if.score(services.serving, WEEK, row)
    scorer = Scorer(*load_booster(ModelStore(services.storage), "m1"), "m1")
    expected = scorer.probability(feature_matrix(pa.table({"sessions_7d": [0], "plan": ["free"]}), scorer.features))
    assert scored.churn_probability == pytest.approx(float(expected[0]), abs=1e-6)
    assert scored.risk_band == "high" and not scored.cached
    assert scored.reasons and scored.reasons[0].feature == "sessions_7d" and scored.reasons[0].value == 0
    assert scored.missing_features == ["tenure_days"]
    assert scored.to_json(WEEK)["run_date"] == AS_OF.isoformat()
    busier = what_if.score(services.serving, WEEK, normalised_row({"sessions_7d": 4, "plan": "free"}, AS_OF))
    assert busier.churn_probability < scored.churn_probability


def test_the_same_question_is_answered_from_the_cache_until_it_expires(services, what_if, monkeypatch):
    row = normalised_row({"sessions_7d": 0, "plan": "free"}, AS_OF)
    first = what_if.score(services.serving, WEEK, row)
    again = what_if.score(services.serving, WEEK, row)
    assert again.cached and (again.churn_probability, again.reasons) == (first.churn_probability, first.reasons)
    store_tiny_model(services.storage, "m2")
    other_model = what_if.score(services.serving, ServedWeek(AS_OF.isoformat(), "exec-2", "m2", "", 200), row)
    assert not other_model.cached and other_model.model_version == "m2"
    later = time.time() + 3_601
    monkeypatch.setattr(time, "time", lambda: later)
    assert not what_if.score(services.serving, WEEK, row).cached


def test_a_model_that_cannot_be_loaded_is_503_and_the_lookups_still_answer(services):
    publish_week(services.serving, WEEK, expiry(days=365))  # model m1 was never stored
    api = ServingApi(lambda: services.serving, lambda: WhatIf(lambda: services.storage, cache_seconds=3_600))
    score = proxy_event("POST", "/v1/score", {}, json.dumps({"row": {"sessions_7d": 1}}), "k")
    answer = api.handle(score)
    assert answer["statusCode"] == 503 and json.loads(answer["body"])["error"] == "model_unavailable"
    assert api.handle(proxy_event("GET", "/v1/health", {}, None, "k"))["statusCode"] == 200


def test_the_whole_history_features_follow_from_the_lifetime_totals_and_tenure_unless_the_row_gives_them():
    totals = {"sessions_7d": 0, "signup_date": "2025-03-10", "lifetime_purchases": 4, "lifetime_revenue": 120.0,
              "days_since_first_purchase": 300, "days_since_last_purchase": 62}
    row = normalised_row(totals, AS_OF)
    assert row["tenure_days"] == 364
    assert row["purchases_per_week"] == pytest.approx(7 * 4 / 364)
    assert (row["repeat_purchases"], row["repeat_span_days"], row["mean_spend"]) == (3, 238, 30.0)
    assert row["missed_purchases"] == pytest.approx(4 * 62 / 364)
    assert "active_day_share" not in row  # lifetime_active_days not given: left missing, as in a week without it
    bought_more = normalised_row({**totals, "lifetime_purchases": 8}, AS_OF)
    assert bought_more["purchases_per_week"] == pytest.approx(2 * row["purchases_per_week"])
    assert normalised_row({**totals, "purchases_per_week": 0.5}, AS_OF)["purchases_per_week"] == 0.5
