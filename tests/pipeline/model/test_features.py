import re

import numpy as np
import pyarrow as pa
import pytest

from pipeline.core.settings import REPO_ROOT
from pipeline.landing.event_mapping import read_mapping
from pipeline.landing.events import ingest_events
from pipeline.model.features import (
    HISTORY_FEATURES,
    LIFETIME_FEATURES,
    MAX_CATEGORIES,
    MISSING_NUMBER,
    FeatureSpec,
    feature_matrix,
    fit_feature_spec,
    lifetime_features,
    row_matrix,
)
from pipeline.warehouse.sql import render
from pipeline.warehouse.tables import table
from tools.synthetic.sparse_events import sparse_event_log, write_event_log


def test_spec_keeps_columns_with_values_and_never_identifiers_or_weights():
    training = pa.table({
        "customer_id": ["a", "b"], "snapshot_date": ["2026-01-05"] * 2, "churned": [0, 1], "sample_weight": [1.0, 2.0],
        "sessions_7d": [1, 0], "revenue_90d": pa.array([None, None], pa.float64()), "plan": ["free", "premium"],
    })
    spec = fit_feature_spec([training])
    assert spec.numeric == ["sessions_7d"]  # revenue_90d has no value at all: not a feature
    assert spec.categories == {"plan": ["free", "premium"]}
    assert spec.feature_types == ["q", "c"]


def test_spec_from_batches_is_the_spec_of_their_rows_together():
    rows = pa.table({"sessions_7d": [None, None, 4, 1], "plan": ["free", "gold", "gold", None]})
    spec = fit_feature_spec(rows.to_batches(max_chunksize=1))
    assert spec == fit_feature_spec([rows])
    assert spec.numeric == ["sessions_7d"]  # only the later batches hold a value
    assert spec.categories == {"plan": ["free", "gold"]}  # sorted, the order codes follow


def test_only_the_most_frequent_categories_are_kept():
    values = [f"v{index:03d}" for index in range(MAX_CATEGORIES + 5)]
    rows = pa.table({"country": values + ["v000"] * 3})  # every value once, v000 four times
    categories = fit_feature_spec([rows]).categories["country"]
    assert len(categories) == MAX_CATEGORIES and "v000" in categories


def test_matrix_at_inference_matches_training_columns_whatever_the_input():
    spec = fit_feature_spec([pa.table({"customer_id": ["a"], "sessions_7d": [3], "plan": ["free"],
                                       "push_enabled": [True], "churned": [0]})])
    scoring = pa.table({"customer_id": ["x", "y"], "plan": ["free", "gold"], "push_enabled": [False, None],
                        "extra": [1, 2]})
    matrix = feature_matrix(scoring, spec)
    assert spec.names == ["sessions_7d", "push_enabled", "plan"]
    assert matrix.dtype == np.float32 and matrix.shape == (2, 3)
    assert (matrix[:, 0] == MISSING_NUMBER).all()  # absent column: missing, not zero
    assert matrix[0, 1] == 0 and matrix[1, 1] == MISSING_NUMBER  # a null stays missing
    assert matrix[0, 2] == 0 and matrix[1, 2] == 1  # "free" is category 0; an unseen category is "other", the next
    assert not np.isnan(matrix).any()  # NaN would make XGBoost bin it sparse, four times the memory


def test_a_nan_in_the_data_is_missing_like_a_null():
    spec = fit_feature_spec([pa.table({"revenue_7d": [1.5, 2.0]})])
    matrix = feature_matrix(pa.table({"revenue_7d": [float("nan"), None, 2.0]}), spec)
    assert matrix[:, 0].tolist() == [MISSING_NUMBER, MISSING_NUMBER, 2.0]


def test_every_history_and_lifetime_feature_the_sql_computes_is_documented():
    sql = (REPO_ROOT / "athena_sql" / "customer_weeks.sql").read_text()
    computed = set(re.findall(r"^    h\.([a-z0-9_]+)", sql, re.MULTILINE))  # the SELECT list, from `history`
    assert computed == set(HISTORY_FEATURES) | set(LIFETIME_FEATURES)
    assert all(formula and why for formula, why in (HISTORY_FEATURES | LIFETIME_FEATURES).values())


def test_a_row_of_plain_values_makes_the_matrix_its_table_would():
    spec = FeatureSpec(numeric=["sessions_7d", "auto_renew", "minutes_7d", "nps_score"],
                       categories={"plan": ["basic", "free"], "device": ["ios", "web"]})
    rows = [{"sessions_7d": 3, "auto_renew": True, "minutes_7d": 12.5, "plan": "free", "device": "tv"},
            {"sessions_7d": 0, "auto_renew": False, "nps_score": None, "plan": None},
            {"minutes_7d": float("nan"), "device": "web"}]
    table = pa.Table.from_pylist(rows, schema=pa.schema([("sessions_7d", pa.int64()), ("auto_renew", pa.bool_()),
                                                         ("minutes_7d", pa.float64()), ("nps_score", pa.int64()),
                                                         ("plan", pa.string()), ("device", pa.string())]))
    assert np.array_equal(np.vstack([row_matrix(row, spec) for row in rows]), feature_matrix(table, spec))


def test_a_rows_whole_history_features_are_the_ones_the_sql_computes(services, tmp_path):
    """lifetime_features (a what-if row's) against athena_sql/customer_weeks.sql, row by row, on the sparse-purchase
    world landed as events: new customers (under a week), long ones, and two who only visit (no purchase)."""
    mapping = read_mapping(write_event_log(sparse_event_log(300, 6, seed=3, history_days=200), tmp_path / "log.csv"))
    ingest_events(services, tmp_path / "log.csv", mapping)
    weeks = sorted(services.catalog.partitions(table("snapshots")))
    visits = tmp_path / "visits.csv"
    visits.write_text("event_id,customer_id,occurred_at,event_name,amount\n"
                      f"v-1,V00000001,{weeks[0]}T09:00:00Z,visit,\nv-2,V00000002,{weeks[1]}T09:00:00Z,visit,\n")
    ingest_events(services, visits, mapping)
    rows = services.sql.query(render("customer_weeks", first_week=weeks[0], run_date=weeks[-1])).to_pylist()
    assert rows
    for row in rows:
        from_sql = {name: row[name] for name in LIFETIME_FEATURES if row[name] is not None}
        assert lifetime_features(row) == pytest.approx(from_sql), row["customer_id"]
    assert {row["tenure_days"] < 7 for row in rows} == {True, False}
    assert {row["lifetime_purchases"] == 0 for row in rows} == {True, False}
