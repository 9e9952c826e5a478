"""Inference (Fargate, one task per shard): score one shard of the run's week with the run's model."""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import xgboost as xgb

from pipeline.features import feature_matrix
from pipeline.keys import attempt_prefix, shard_prefix
from pipeline.model_store import MODEL_FILE, ModelStore
from pipeline.ports import Services
from pipeline.run import Run
from pipeline.week_lock import hold_week
from pipeline.storage import read_parquet, write_parquet
from pipeline.tables import table

logger = logging.getLogger(__name__)
HIGH_RISK = 0.5
MEDIUM_RISK = 0.2


def risk_band(probability: np.ndarray) -> np.ndarray:
    return np.select([probability >= HIGH_RISK, probability >= MEDIUM_RISK], ["high", "medium"], "low")


def score_shard(services: Services, run: Run, shard: int) -> int:
    hold_week(services, run)
    store = ModelStore(services.storage)
    model = store.load(run.model_version)
    booster = xgb.Booster()
    try:
        booster.load_model(bytearray(model.model))
    except xgb.core.XGBoostError as error:
        raise store.damaged(run.model_version, MODEL_FILE, str(error).splitlines()[0]) from None
    rows = read_parquet(services.storage, shard_prefix(run.run_date, shard)).to_pandas()
    matrix = xgb.DMatrix(feature_matrix(rows, model.features), enable_categorical=True)
    probability = booster.predict(matrix, iteration_range=(0, model.metrics["best_iteration"] + 1))
    predictions = pd.DataFrame({
        "customer_id": rows["customer_id"].astype(str),
        "churn_probability": probability.astype("float64"),
        "risk_band": risk_band(probability),
        "model_version": run.model_version,
        "snapshot_date": rows["snapshot_date"],
    })
    key = f"{attempt_prefix('predictions', run.run_date, run.execution_name)}shard-{shard:05d}.parquet"
    write_parquet(services.storage, key, pa.Table.from_pandas(
        predictions, schema=table("predictions").arrow_schema(), preserve_index=False))
    logger.info("scored shard %d: %d customers", shard, len(predictions))
    return len(predictions)
