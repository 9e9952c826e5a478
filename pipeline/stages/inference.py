"""Inference (Fargate, one task per shard): score one shard of the run's week with the run's model.

Beside the predictions it writes the shard's spot-check rows (`qa_predictions`, with each customer's top reasons)
and its segment totals, which Publish adds up into `weekly_summary`.
"""
from __future__ import annotations

import logging

import numpy as np
import pyarrow as pa
import xgboost as xgb

from pipeline import drift
from pipeline.explanations import in_qa_sample, top_reasons
from pipeline.features import FeatureSpec, feature_matrix
from pipeline.keys import attempt_prefix, drift_counts_key, scoring_prefix, segment_totals_key, shard_prefix
from pipeline.model_store import MODEL_FILE, ModelStore, StoredModel
from pipeline.ports import Services
from pipeline.run import Run
from pipeline.summaries import SEGMENT_COLUMNS, SegmentTotals, tenure_band
from pipeline.week_lock import hold_week
from pipeline.storage import (local_copies, newest_attempt, parquet_batches, parquet_output, required_data_keys,
                              write_json)
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
    """Stream the shard's rows through the model in Arrow batches and out to Parquet: memory holds a batch at a
    time, so it is flat in the shard's size."""
    hold_week(services, run)
    store = ModelStore(services.storage)
    booster, own = load_booster(store, run.model_version)  # the week's model: what drift is measured against
    version = own.metrics.get("scored_with", run.model_version)  # the champion, if it won
    scoring = (booster, own) if version == run.model_version else load_booster(store, version)
    scorer = Scorer(*scoring, version)
    reference = own.metrics.get("drift_reference", {"edges": {}})
    drift_counts: dict[str, list[int]] = {}
    shard_file = f"shard-{shard:05d}.parquet"
    scoring_set = newest_attempt(services.storage, scoring_prefix(run.run_date))
    input_keys = required_data_keys(services.storage, shard_prefix(scoring_set, shard))
    totals = SegmentTotals()
    with local_copies(services.storage, input_keys) as paths, \
            parquet_output(services.storage, _output_key("predictions", run, shard_file),
                           table("predictions").arrow_schema()) as predictions, \
            parquet_output(services.storage, _output_key("qa_predictions", run, shard_file),
                           table("qa_predictions").arrow_schema()) as spot_checks:
        for rows in parquet_batches(paths):
            matrix = feature_matrix(rows, scorer.features)
            probability = scorer.probability(matrix)
            band = risk_band(probability)
            predictions.write_batch(scorer.predictions(rows, probability, band))
            spot_checks.write_batch(scorer.spot_checks(rows, probability, band))
            totals.add(_segments(rows), probability, band == "high")
            own_matrix = matrix if scorer.features == own.features else feature_matrix(rows, own.features)
            drift_counts = drift.add_counts(drift_counts, drift.bin_counts(own_matrix, own.features,
                                                                           reference["edges"]))
    write_json(services.storage, segment_totals_key(run.run_date, shard), totals.to_document())
    write_json(services.storage, drift_counts_key(run.run_date, shard), drift_counts)
    logger.info("scored shard %d: %d customers", shard, totals.customers)
    return totals.customers


def _output_key(table_name: str, run: Run, file_name: str) -> str:
    return f"{attempt_prefix(table_name, run.run_date, run.execution_name)}{file_name}"


def _segments(rows: pa.RecordBatch) -> dict[str, pa.Array]:
    columns = {name: _column(rows, name) for name in SEGMENT_COLUMNS if name != "tenure_band"}
    return columns | {"tenure_band": tenure_band(_column(rows, "tenure_days"))}


def _column(rows: pa.RecordBatch, name: str) -> pa.Array:
    """The rows' column, or nulls where the scoring set has none (a snapshot may lack optional columns)."""
    return rows.column(name) if name in rows.schema.names else pa.nulls(rows.num_rows)


class Scorer:
    """One model, loaded once per process, applied batch by batch (Training scores the champion with it too)."""

    def __init__(self, booster: xgb.Booster, model: StoredModel, model_version: str):
        self.booster = booster
        self.features = model.features
        self.rounds = (0, model.metrics["best_iteration"] + 1)
        self.calibration = model.calibration
        self.model_version = model_version

    def probability(self, matrix: np.ndarray) -> np.ndarray:
        """The calibrated churn probability of each row of `matrix` (feature_matrix of this model's spec)."""
        raw = self.booster.predict(_dmatrix(matrix, self.features), iteration_range=self.rounds)
        return self.calibration.apply(raw.astype("float64"))

    def predictions(self, rows: pa.RecordBatch, probability: np.ndarray, band: np.ndarray) -> pa.RecordBatch:
        return pa.RecordBatch.from_pydict({
            "customer_id": rows.column("customer_id").cast(pa.string()), "churn_probability": probability,
            "risk_band": band, "model_version": np.full(rows.num_rows, self.model_version),
            "snapshot_date": rows.column("snapshot_date")}, schema=table("predictions").arrow_schema())

    def spot_checks(self, rows: pa.RecordBatch, probability: np.ndarray, band: np.ndarray) -> pa.RecordBatch:
        """The sample's rows of the batch, with their top reasons (exact SHAP: costly, so only for them)."""
        schema = table("qa_predictions").arrow_schema()
        sample = in_qa_sample(rows.column("customer_id"))
        rows = rows.filter(pa.array(sample))
        reasons = top_reasons(self.booster, scoring_matrix(rows, self.features), self.rounds)
        columns = {name: _column(rows, name).cast(schema.field(name).type) for name in (
            "customer_id", "plan", "country", "device", "sessions_7d", "days_since_last_session", "snapshot_date")}
        columns |= {"churn_probability": probability[sample], "risk_band": band[sample],
                    "tenure_band": tenure_band(_column(rows, "tenure_days")),
                    "model_version": np.full(rows.num_rows, self.model_version)}
        for rank, (names, contributions) in enumerate(reasons, start=1):
            columns |= {f"reason_{rank}": names, f"reason_{rank}_contribution": contributions}
        return pa.RecordBatch.from_pydict({name: columns[name] for name in schema.names}, schema=schema)


def scoring_matrix(rows: pa.RecordBatch | pa.Table, spec: FeatureSpec) -> xgb.DMatrix:
    return _dmatrix(feature_matrix(rows, spec), spec)


def _dmatrix(matrix: np.ndarray, spec: FeatureSpec) -> xgb.DMatrix:
    return xgb.DMatrix(matrix, feature_names=spec.names, feature_types=spec.feature_types, enable_categorical=True)
