"""Inference (Fargate, one task per shard): score one shard of the run's week with the run's model.

Beside the predictions it writes the shard's spot-check rows (`qa_predictions`, with each customer's exact top
reasons), its segment totals, which Publish adds up into `weekly_summary`, and every customer's risk with its
approximate top reasons into the serving store, under this execution's version (Publish points the API at it).
"""
from __future__ import annotations

import logging

import numpy as np
import pyarrow as pa

from pipeline.execution.identity import Run
from pipeline.execution.week_lock import hold_week
from pipeline.execution.work import check_inputs
from pipeline.model import drift
from pipeline.model.features import TENURE_COLUMN, feature_matrix
from pipeline.model.scorer import Scorer, load_booster, risk_band
from pipeline.model.store import ModelStore
from pipeline.results.scored_rows import column_or_nulls, prediction_rows, spot_check_rows
from pipeline.results.weekly_summary import SEGMENT_COLUMNS, SegmentTotals, tenure_band
from pipeline.serving.store import expiry, load_scores
from pipeline.warehouse.layout import attempt_prefix, drift_counts_key, scoring_prefix, segment_totals_key, shard_prefix
from pipeline.warehouse.objects import (
    local_copies,
    newest_attempt,
    parquet_batches,
    parquet_output,
    required_data_keys,
    write_json,
)
from pipeline.warehouse.ports import Services
from pipeline.warehouse.tables import table

logger = logging.getLogger(__name__)


def score_shard(services: Services, run: Run, shard: int) -> int:
    """Stream the shard's rows through the model in Arrow batches and out to Parquet: memory holds a batch at a
    time, so it is flat in the shard's size."""
    hold_week(services, run)
    check_inputs(services, run)
    store = ModelStore(services.storage)
    booster, own = load_booster(store, run.model_version)  # the week's model: what drift is measured against
    version = own.metrics.get("scored_with", run.model_version)  # the champion, if it won
    scoring = (booster, own) if version == run.model_version else load_booster(store, version)
    scorer = Scorer(*scoring, version)
    reference = own.metrics.get("drift_reference", {"edges": {}})
    drift_counts: dict[str, list[int]] = {}
    shard_file = f"shard-{shard:05d}.parquet"
    scoring_set = newest_attempt(services.storage, scoring_prefix(run))
    input_keys = required_data_keys(services.storage, shard_prefix(scoring_set, shard))
    totals = SegmentTotals()
    expires_at = expiry(services.settings.serving_days)
    with local_copies(services.storage, input_keys) as paths, \
            parquet_output(services.storage, _output_key("predictions", run, shard_file),
                           table("predictions").arrow_schema()) as predictions, \
            parquet_output(services.storage, _output_key("qa_predictions", run, shard_file),
                           table("qa_predictions").arrow_schema()) as spot_checks:
        for rows in parquet_batches(paths):
            matrix = feature_matrix(rows, scorer.features)
            probability, reasons = scorer.probability_and_reasons(matrix)
            band = risk_band(probability)
            predictions.write_batch(prediction_rows(scorer, rows, probability, band))
            spot_checks.write_batch(spot_check_rows(scorer, rows, probability, band))
            totals.add(_segments(rows), probability, band == "high")
            load_scores(services.serving, run.execution_name, expires_at, run.run_date.isoformat(),
                        scorer.model_version, zip(rows.column("customer_id").cast(pa.string()).to_pylist(),
                                                  np.round(probability, 6).tolist(), band.tolist(), reasons))
            own_matrix = matrix if scorer.features == own.features else feature_matrix(rows, own.features)
            drift_counts = drift.add_counts(drift_counts, drift.bin_counts(own_matrix, own.features,
                                                                           reference["edges"]))
    write_json(services.storage, segment_totals_key(run, shard), totals.to_document())
    write_json(services.storage, drift_counts_key(run, shard), drift_counts)
    logger.info("scored shard %d: %d customers", shard, totals.customers)
    return totals.customers


def _output_key(table_name: str, run: Run, file_name: str) -> str:
    return f"{attempt_prefix(table_name, run.run_date, run.execution_name)}{file_name}"


def _segments(rows: pa.RecordBatch) -> dict[str, pa.Array]:
    columns = {name: column_or_nulls(rows, name) for name in SEGMENT_COLUMNS if name != "tenure_band"}
    return columns | {"tenure_band": tenure_band(column_or_nulls(rows, TENURE_COLUMN))}
