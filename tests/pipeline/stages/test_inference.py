"""Inference scores one shard with the stored model and writes the predictions table's schema."""
import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import xgboost as xgb

from pipeline.errors import ModelStoreError
from pipeline.features import feature_matrix, fit_feature_spec
from pipeline.keys import attempt_prefix, shard_prefix
from pipeline.model_store import ModelStore, StoredModel
from pipeline.run import Run
from pipeline.stages.inference import risk_band, score_shard
from pipeline.storage import read_parquet, write_parquet
from pipeline.tables import table

WEEK = dt.date(2026, 3, 2)
RUN = Run(run_date=WEEK, churn_horizon_weeks=4, model_version="v1", execution_name="e1")


def test_risk_bands_split_at_the_documented_thresholds():
    assert risk_band(np.array([0.0, 0.19, 0.2, 0.49, 0.5, 1.0])).tolist() == [
        "low", "low", "medium", "medium", "high", "high"]


def store_tiny_model(services) -> None:
    rng = np.random.default_rng(3)
    rows = pd.DataFrame({"sessions_7d": rng.integers(0, 5, 200), "plan": rng.choice(["free", "basic"], 200)})
    labels = (rows["sessions_7d"] == 0).astype(int)
    spec = fit_feature_spec(rows)
    booster = xgb.train({"objective": "binary:logistic", "seed": 1},
                        xgb.DMatrix(feature_matrix(rows, spec), label=labels, enable_categorical=True), 5)
    ModelStore(services.storage).save(StoredModel("v1", bytes(booster.save_raw("ubj")), spec, {},
                                                  {"best_iteration": 4}),
                                      pa.table({"customer_id": ["x"], "churned": [0], "churn_probability": [0.1]}))


def test_a_shard_is_scored_into_the_executions_folder(services):
    store_tiny_model(services)
    shard = pa.table({"customer_id": ["a", "b", "c"], "snapshot_date": [WEEK] * 3, "sessions_7d": [0, 4, None],
                      "plan": ["free", "basic", "unknown"]})
    write_parquet(services.storage, f"{shard_prefix(WEEK, 2)}part-0.parquet", shard)
    assert score_shard(services, RUN, 2) == 3
    written = read_parquet(services.storage, f"{attempt_prefix('predictions', WEEK, 'e1')}shard-00002.parquet")
    assert written.schema == table("predictions").arrow_schema()
    scores = written.to_pydict()
    assert scores["customer_id"] == ["a", "b", "c"] and set(scores["model_version"]) == {"v1"}
    assert scores["churn_probability"][0] > scores["churn_probability"][1]  # no sessions: the likelier to churn


def test_a_damaged_model_file_is_named(services):
    store_tiny_model(services)
    services.storage.write_bytes("models/model_version=v1/model.ubj", b"\x00 not a model")
    with pytest.raises(ModelStoreError, match="model version v1: .*model.ubj is damaged"):
        score_shard(services, RUN, 0)
