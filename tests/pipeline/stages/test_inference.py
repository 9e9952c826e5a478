"""Inference scores one shard with the stored model and writes the predictions table's schema."""
import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
import xgboost as xgb

from pipeline.core.errors import ModelStoreError
from pipeline.execution.identity import Run
from pipeline.execution.work import record_inputs
from pipeline.model.explanations import in_qa_sample, top_reasons
from pipeline.results.weekly_summary import SegmentTotals
from pipeline.stages import inference
from pipeline.stages.inference import score_shard
from pipeline.warehouse.layout import attempt_prefix, scoring_prefix, segment_totals_key, shard_prefix
from pipeline.warehouse.objects import read_json, read_parquet, write_parquet
from pipeline.warehouse.tables import table
from tests.conftest import store_tiny_model

WEEK = dt.date(2026, 3, 2)
RUN = Run(run_date=WEEK, churn_horizon_weeks=4, model_version="v1", execution_name="e1")
SCORING_SET = f"{scoring_prefix(RUN)}attempt=0/"  # as PrepareSets writes it


@pytest.fixture(autouse=True)
def prepared(services):
    """What PrepareData records before the sets are written: Inference checks it."""
    record_inputs(services, RUN, WEEK)


def test_a_shard_is_scored_into_the_executions_folder(services):
    store_tiny_model(services.storage)
    shard = pa.table({"customer_id": ["a", "b", "c"], "snapshot_date": [WEEK] * 3, "sessions_7d": [0, 4, None],
                      "plan": ["free", "basic", "unknown"]})
    write_parquet(services.storage, f"{shard_prefix(SCORING_SET, 2)}part-0.parquet", shard)
    assert score_shard(services, RUN, 2) == 3
    written = read_parquet(services.storage, f"{attempt_prefix('predictions', WEEK, 'e1')}shard-00002.parquet")
    assert written.schema == table("predictions").arrow_schema()
    scores = written.to_pydict()
    assert scores["customer_id"] == ["a", "b", "c"] and set(scores["model_version"]) == {"v1"}
    assert scores["churn_probability"][0] > scores["churn_probability"][1]  # no sessions: the likelier to churn


def test_a_damaged_model_file_is_named(services):
    store_tiny_model(services.storage)
    services.storage.write_bytes("models/model_version=v1/model.ubj", b"\x00 not a model")
    with pytest.raises(ModelStoreError, match="model version v1: .*model.ubj is damaged"):
        score_shard(services, RUN, 0)


def test_a_shard_larger_than_a_batch_is_streamed_in_batches_and_scored_whole(services, monkeypatch):
    store_tiny_model(services.storage)
    customers = [f"c{index:04d}" for index in range(1000)]
    shard = pa.table({"customer_id": customers, "snapshot_date": [WEEK] * 1000,
                      "sessions_7d": [index % 5 for index in range(1000)], "plan": ["free", "basic"] * 500})
    write_parquet(services.storage, f"{shard_prefix(SCORING_SET, 0)}part-0.parquet", shard.slice(0, 600))
    write_parquet(services.storage, f"{shard_prefix(SCORING_SET, 0)}part-1.parquet", shard.slice(600))
    batch_sizes = []
    original = inference.parquet_batches
    monkeypatch.setattr(inference, "parquet_batches", lambda paths: (
        batch_sizes.append(batch.num_rows) or batch for batch in original(paths, batch_rows=256)))
    assert score_shard(services, RUN, 0) == 1000
    assert max(batch_sizes) == 256 and sum(batch_sizes) == 1000
    written = read_parquet(services.storage, f"{attempt_prefix('predictions', WEEK, 'e1')}shard-00000.parquet")
    assert written.column("customer_id").to_pylist() == customers
    by_sessions = dict(zip(shard.column("sessions_7d").to_pylist(), written.column("churn_probability").to_pylist()))
    assert by_sessions[0] > by_sessions[4]  # the same model, batch after batch


def test_the_spot_check_sample_gets_its_top_reasons_and_the_shard_its_segment_totals(services):
    store_tiny_model(services.storage)
    customers = [f"c{index:04d}" for index in range(1000)]
    shard = pa.table({"customer_id": customers, "snapshot_date": [WEEK] * 1000,
                      "sessions_7d": [index % 5 for index in range(1000)], "plan": ["free", "basic"] * 500,
                      "tenure_days": [400] * 1000})
    write_parquet(services.storage, f"{shard_prefix(SCORING_SET, 0)}part-0.parquet", shard)
    score_shard(services, RUN, 0)

    spot_checks = read_parquet(services.storage, f"{attempt_prefix('qa_predictions', WEEK, 'e1')}shard-00000.parquet")
    assert spot_checks.schema == table("qa_predictions").arrow_schema()
    sampled = spot_checks.column("customer_id").to_pylist()
    assert sampled == [customer for customer in customers if in_qa_sample(pa.array([customer]))[0]]
    assert 0 < len(sampled) < 40  # about 1%
    for row in spot_checks.to_pylist():
        assert row["tenure_band"] == "1-2y"
        if row["sessions_7d"] == 0:  # no sessions is what raises this model's score
            assert row["reason_1"] == "sessions_7d" and row["reason_1_contribution"] > 0
        ranked = [row[f"reason_{rank}_contribution"] for rank in (1, 2, 3) if row[f"reason_{rank}"]]
        assert ranked == sorted(ranked, reverse=True) and all(value > 0 for value in ranked)

    totals = SegmentTotals.from_document(read_json(services.storage, segment_totals_key(RUN, 0)))
    assert totals.customers == 1000
    assert totals.totals[("plan", "free")][0] == 500 and totals.totals[("country", "unknown")][0] == 1000
    scores = read_parquet(services.storage, f"{attempt_prefix('predictions', WEEK, 'e1')}shard-00000.parquet")
    assert totals.totals[("all", "all")][1] == pytest.approx(sum(scores.column("churn_probability").to_pylist()))


def test_top_reasons_rank_the_positive_contributions_and_leave_the_rest_null():
    rng = np.random.default_rng(5)
    features = rng.normal(size=(400, 2)).astype(np.float32)
    labels = (features[:, 0] > 0).astype(int)  # only the first feature matters
    booster = xgb.train({"objective": "binary:logistic", "seed": 1}, xgb.DMatrix(
        features, label=labels, feature_names=["signal", "noise"]), 10)
    matrix = xgb.DMatrix(np.array([[2.0, 0.0], [-2.0, 0.0]], dtype=np.float32), feature_names=["signal", "noise"])
    (first, first_value), _, (third, third_value) = top_reasons(booster, matrix, (0, 10))
    assert first.to_pylist()[0] == "signal" and first_value.to_pylist()[0] > 0
    assert first.to_pylist()[1] != "signal"  # a low signal lowers the score: never a reason for it
    assert third.null_count == 2 and third_value.null_count == 2  # two features: no third reason
