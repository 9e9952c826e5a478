"""Publish a run: check inference wrote every customer, write the metrics row, then swap the partitions."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa

from pipeline.errors import DataQualityError
from pipeline.infer import attempt_prefix
from pipeline.services import Services
from pipeline.storage import parquet_row_count, read_json, write_parquet
from pipeline.tables import table
from pipeline.train import model_prefix


def publish_results(services: Services, run_date: dt.date, model_version: str, execution_name: str,
                    expected_rows: int) -> dict:
    predictions_prefix = attempt_prefix("predictions", run_date, execution_name)
    scored = parquet_row_count(services.storage, predictions_prefix)
    if scored != expected_rows:
        raise DataQualityError(f"inference wrote {scored} predictions for run_date {run_date}, expected "
                               f"{expected_rows} (one per customer of the week); nothing was published")
    metrics = read_json(services.storage, f"{model_prefix(model_version)}metrics.json")
    metrics_prefix = attempt_prefix("model_metrics", run_date, execution_name)
    _write_metrics_row(services, metrics_prefix, {**metrics, "rows_scored": scored,
                                                  "execution_name": execution_name})
    # Visible only now, and each partition in one catalog call: readers see the old run or this one.
    for table_name, prefix in (("predictions", predictions_prefix), ("model_metrics", metrics_prefix)):
        _swap_partition(services, table_name, run_date, prefix)
    return {"rows_published": scored, "predictions_location": services.storage.uri(predictions_prefix),
            "auc": metrics["auc"], "bayes_auc": metrics["bayes_auc"]}


def _write_metrics_row(services: Services, prefix: str, row: dict) -> None:
    metrics_table = table("model_metrics")
    schema = metrics_table.arrow_schema()
    values = {**row, "validation_week": dt.date.fromisoformat(row["validation_week"])}
    record = pa.Table.from_pylist([{name: values.get(name) for name in schema.names}], schema=schema)
    write_parquet(services.storage, f"{prefix}part-0.parquet", record)


def _swap_partition(services: Services, table_name: str, run_date: dt.date, prefix: str) -> None:
    definition = table(table_name)
    value = run_date.isoformat()
    previous = services.catalog.partitions(definition).get(value)
    services.catalog.put_partition(definition, value, services.storage.uri(prefix))
    if previous and services.storage.key_of(previous) != prefix:
        services.storage.delete_prefix(services.storage.key_of(previous))
