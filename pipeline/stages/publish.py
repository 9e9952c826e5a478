"""Publish (Lambda): check inference wrote every customer, write the metrics row, then re-point the week's
partitions of both tables at this execution's folders (the publication record first, then one catalog write; see
`pipeline.publication`), and give the week back.

The folders the partitions pointed at before are left for the next Cleanup of that week, so queries already
reading them finish.
"""
from __future__ import annotations

import datetime as dt
import logging

import pyarrow as pa

from pipeline.errors import DataQualityError
from pipeline.keys import attempt_prefix, work_prefix
from pipeline.model_store import ModelStore
from pipeline.ports import Services
from pipeline.publication import Publication, publish as publish_partitions
from pipeline.run import Run
from pipeline.metrics import emit
from pipeline.storage import parquet_row_count, read_parquet, write_parquet
from pipeline.tables import table
from pipeline.week_lock import hold_week, release_week

logger = logging.getLogger(__name__)


def publish(services: Services, run: Run, expected_rows: int) -> dict:
    hold_week(services, run)
    run_date, execution_name = run.run_date, run.execution_name
    predictions_prefix = attempt_prefix("predictions", run_date, execution_name)
    scored = parquet_row_count(services.storage, predictions_prefix)
    if scored != expected_rows:
        raise DataQualityError(f"inference wrote {scored} predictions for run_date {run_date}, expected "
                               f"{expected_rows} (one per customer of the week); nothing was published")
    metrics = ModelStore(services.storage).metrics(run.model_version)
    previous_auc = _previous_week_auc(services, run_date)
    metrics_prefix = attempt_prefix("model_metrics", run_date, execution_name)
    _write_metrics_row(services, metrics_prefix, {**metrics, "rows_scored": scored,
                                                  "execution_name": execution_name})
    publish_partitions(services, Publication("results", run_date.isoformat(), {
        "predictions": predictions_prefix, "model_metrics": metrics_prefix}, published_by=execution_name))
    services.storage.delete_prefix(work_prefix(run_date))
    release_week(services.storage, run)
    logger.info("published %d predictions and the metrics row for run_date %s", scored, run_date)
    _emit_run_metrics(metrics, scored, previous_auc)
    return {"rows_published": scored, "predictions_location": services.storage.uri(predictions_prefix),
            "auc": metrics["auc"], "bayes_auc": metrics["bayes_auc"]}


def _previous_week_auc(services: Services, run_date: dt.date) -> float | None:
    """The AUC of the newest week published before this one, for the AucDrop metric (None if there is none)."""
    published = services.catalog.partitions(table("model_metrics"))
    earlier = sorted(value for value in published if value < run_date.isoformat())
    if not earlier:
        return None
    location = published[earlier[-1]]
    try:
        return read_parquet(services.storage, services.storage.key_of(location)).column("auc")[0].as_py()
    except Exception as error:  # a metric never fails a publish; doctor names a damaged file
        logger.warning("no AucDrop metric: the metrics row of %s could not be read (%s)", earlier[-1], error)
        return None


def _emit_run_metrics(metrics_row: dict, rows_scored: int, previous_auc: float | None) -> None:
    values = {"AUC": (metrics_row["auc"], "None"), "LogLoss": (metrics_row["log_loss"], "None"),
              "RowsScored": (rows_scored, "Count"), "RowsTrained": (metrics_row["rows_trained"], "Count")}
    if previous_auc is not None:
        values["AucDrop"] = (round(previous_auc - metrics_row["auc"], 6), "None")
    emit(values, model_version=metrics_row["model_version"])


def _write_metrics_row(services: Services, prefix: str, row: dict) -> None:
    schema = table("model_metrics").arrow_schema()
    values = {**row, "validation_week": dt.date.fromisoformat(row["validation_week"])}
    record = pa.Table.from_pylist([{name: values.get(name) for name in schema.names}], schema=schema)
    write_parquet(services.storage, f"{prefix}part-0.parquet", record)
