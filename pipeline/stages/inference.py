"""Inference (Fargate, one task per shard): score one shard of the run's week with the run's model."""
from __future__ import annotations

import logging

import numpy as np
import pyarrow as pa
import xgboost as xgb

from pipeline.features import FeatureSpec, feature_matrix
from pipeline.keys import attempt_prefix, scoring_prefix, shard_prefix
from pipeline.model_store import MODEL_FILE, ModelStore, StoredModel
from pipeline.ports import Services
from pipeline.run import Run
from pipeline.week_lock import hold_week
from pipeline.storage import local_copies, newest_attempt, parquet_batches, parquet_output, required_data_keys
from pipeline.tables import table

logger = logging.getLogger(__name__)
HIGH_RISK = 0.5
MEDIUM_RISK = 0.2


def risk_band(probability: np.ndarray) -> np.ndarray:
    return np.select([probability >= HIGH_RISK, probability >= MEDIUM_RISK], ["high", "medium"], "low")


def load_booster(store: ModelStore, version: str) -> tuple[xgb.Booster, StoredModel]:
    model = store.load(version)
    booster = xgb.Booster()
    try:
        booster.load_model(bytearray(model.model))
    except xgb.core.XGBoostError as error:
        raise store.damaged(version, MODEL_FILE, str(error).splitlines()[0]) from None
    return booster, model


def score_shard(services: Services, run: Run, shard: int) -> int:
    """Stream the shard's rows through the model in Arrow batches and out to one Parquet file: memory holds a
    batch at a time, so it is flat in the shard's size."""
    hold_week(services, run)
    booster, model = load_booster(ModelStore(services.storage), run.model_version)
    rounds = (0, model.metrics["best_iteration"] + 1)
    schema = table("predictions").arrow_schema()
    output_key = f"{attempt_prefix('predictions', run.run_date, run.execution_name)}shard-{shard:05d}.parquet"
    scoring_set = newest_attempt(services.storage, scoring_prefix(run.run_date))
    input_keys = required_data_keys(services.storage, shard_prefix(scoring_set, shard))
    scored = 0
    with local_copies(services.storage, input_keys) as paths, \
            parquet_output(services.storage, output_key, schema) as writer:
        for rows in parquet_batches(paths):
            probability = booster.predict(scoring_matrix(rows, model.features), iteration_range=rounds)
            writer.write_batch(_predictions(rows, probability.astype("float64"), run.model_version, schema))
            scored += rows.num_rows
    logger.info("scored shard %d: %d customers", shard, scored)
    return scored


def scoring_matrix(rows: pa.RecordBatch | pa.Table, spec: FeatureSpec) -> xgb.DMatrix:
    return xgb.DMatrix(feature_matrix(rows, spec), feature_names=spec.names, feature_types=spec.feature_types,
                       enable_categorical=True)


def _predictions(rows: pa.RecordBatch, probability: np.ndarray, model_version: str,
                 schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([
        rows.column("customer_id").cast(pa.string()), pa.array(probability), pa.array(risk_band(probability)),
        pa.array(np.full(rows.num_rows, model_version)), rows.column("snapshot_date")], schema=schema)
