"""Batch inference for one shard of the run's week."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import xgboost as xgb

from pipeline.features import feature_matrix
from pipeline.layout import attempt_prefix, shard_prefix
from pipeline.services import Services
from pipeline.storage import read_parquet, write_parquet
from pipeline.tables import table
from pipeline.train import load_model

HIGH_RISK = 0.5
MEDIUM_RISK = 0.2


def risk_band(probability: np.ndarray) -> np.ndarray:
    return np.select([probability >= HIGH_RISK, probability >= MEDIUM_RISK], ["high", "medium"], "low")


def score_shard(services: Services, run_date: dt.date, model_version: str, shard: int,
                execution_name: str) -> int:
    booster, spec, metrics = load_model(services, model_version)
    rows = read_parquet(services.storage, shard_prefix(run_date, shard)).to_pandas()
    matrix = xgb.DMatrix(feature_matrix(rows, spec), enable_categorical=True)
    probability = booster.predict(matrix, iteration_range=(0, metrics["best_iteration"] + 1))
    predictions = pd.DataFrame({
        "customer_id": rows["customer_id"].astype(str),
        "churn_probability": probability.astype("float64"),
        "risk_band": risk_band(probability),
        "model_version": model_version,
        "snapshot_date": rows["snapshot_date"],
    })
    key = f"{attempt_prefix('predictions', run_date, execution_name)}shard-{shard:05d}.parquet"
    write_parquet(services.storage, key, pa.Table.from_pandas(
        predictions, schema=table("predictions").arrow_schema(), preserve_index=False))
    return len(predictions)
