"""Publish (Lambda): check inference wrote every customer, write the metrics row, the week's segment summary (from
the shards' totals) and its data-quality rows, then re-point the week's partitions of every results table at this
execution's folders (the publication record first, then one catalog write; see `pipeline.publication`), and give
the week back.

The folders the partitions pointed at before are left for the next Cleanup of that week, so queries already
reading them finish.
"""
from __future__ import annotations

import datetime as dt
import logging


from pipeline import champion, drift, run_report
from pipeline.data_quality import Check, held, record_checks, warning
from pipeline.errors import DataQualityError
from pipeline.keys import (attempt_prefix, drift_counts_key, report_key, segment_totals_key, shard_list_key,
                           work_prefix)
from pipeline.model_store import ModelStore
from pipeline.ports import Services
from pipeline.publication import GROUPS, Publication, publish as publish_partitions
from pipeline.run import Run
from pipeline.run_history import record_attempt, state_seconds, state_times
from pipeline.metrics import emit
from pipeline.storage import parquet_row_count, read_json, read_parquet, write_parquet
from pipeline.summaries import SCORE_BIN, SegmentTotals, summary_rows
from pipeline.tables import table
from pipeline.week_lock import current_attempt, hold_week, release_week

logger = logging.getLogger(__name__)


def publish(services: Services, run: Run, expected_rows: int, execution_id: str | None = None) -> dict:
    """`execution_id` (the execution's ARN) reads the seconds of each state for the runs row (None: unknown)."""
    hold_week(services, run)
    run_date, execution_name = run.run_date, run.execution_name
    predictions_prefix = attempt_prefix("predictions", run_date, execution_name)
    scored = parquet_row_count(services.storage, predictions_prefix)
    if scored != expected_rows:
        raise DataQualityError(f"inference wrote {scored} predictions for run_date {run_date}, expected "
                               f"{expected_rows} (one per customer of the week); nothing was published")
    metrics = ModelStore(services.storage).metrics(run.model_version)
    drift_checks = _drift_checks(services, run, metrics.get("drift_reference"))
    record_checks(services, run, "Publish", [held("customers_scored", scored, f"== {expected_rows}",
                                                  "one prediction for each customer of the week"), *drift_checks])
    previous_metrics = _previous_week(services, "model_metrics", run_date)
    previous_auc = previous_metrics[1][0]["auc"] if previous_metrics else None
    _write_row(services, attempt_prefix("model_metrics", run_date, execution_name), "model_metrics", [
        {**metrics, "rows_scored": scored, "execution_name": execution_name,
         "validation_week": dt.date.fromisoformat(metrics["validation_week"])}])
    _write_weekly_summary(services, run, scored)
    # Before the switch: if anything after it fails, RecordFailure's FAILED row replaces this one.
    record_attempt(services, run_date, execution_name, current_attempt(), {
        "status": "SUCCEEDED", **state_seconds(state_times(services, execution_id)), "customers": expected_rows,
        "rows_trained": metrics["rows_trained"], "rows_scored": scored, "model_version": run.model_version,
        "auc": metrics["auc"]})
    publish_partitions(services, Publication("results", run_date.isoformat(), {
        name: attempt_prefix(name, run_date, execution_name) for name in GROUPS["results"]},
        published_by=execution_name))
    if metrics.get("promoted", True):
        champion.crown(services.storage, run, metrics["auc"])
    report = _write_report(services, run, metrics | {"rows_scored": scored}, drift_checks)
    services.storage.delete_prefix(work_prefix(run_date))
    release_week(services.storage, run)
    logger.info("published %d predictions and the metrics row for run_date %s", scored, run_date)
    _emit_run_metrics(metrics, scored, previous_auc)
    return {"rows_published": scored, "predictions_location": services.storage.uri(predictions_prefix),
            "auc": metrics["auc"], "bayes_auc": metrics["bayes_auc"], "report_location": report}


def _previous_week(services: Services, table_name: str, run_date: dt.date) -> tuple[dt.date, list[dict]] | None:
    """The rows of the newest week published before this one (None if there is none, or they cannot be read)."""
    published = services.catalog.partitions(table(table_name))
    earlier = sorted(value for value in published if value < run_date.isoformat())
    if not earlier:
        return None
    try:
        rows = read_parquet(services.storage, services.storage.key_of(published[earlier[-1]])).to_pylist()
    except Exception as error:  # a comparison never fails a publish; doctor names a damaged file
        logger.warning("no comparison with %s: its %s rows could not be read (%s)", earlier[-1], table_name, error)
        return None
    return dt.date.fromisoformat(earlier[-1]), rows


def _drift_checks(services: Services, run: Run, reference: dict | None) -> list[Check]:
    """Each numeric feature's PSI between the training window and the shards' rows (warnings, never errors)."""
    if not reference:
        return []  # a model trained before drift was measured
    scored: dict[str, list[int]] = {}
    for shard in read_json(services.storage, shard_list_key(run.run_date)):
        scored = drift.add_counts(scored, read_json(services.storage, drift_counts_key(run.run_date, shard)))
    values = {name: drift.psi(counts, scored[name]) for name, counts in sorted(reference["counts"].items())
              if name in scored}
    return [warning(f"psi:{name}", value, f"<= {drift.PSI_WARNING}", value <= drift.PSI_WARNING,
                    f"population stability of {name}, training window against the week scored")
            for name, value in values.items()]


def _write_report(services: Services, run: Run, metrics: dict, drift_checks: list[Check]) -> str | None:
    """The run report beside the results; a report that cannot be drawn is logged, never a failed publish (the
    week's tables are already switched)."""
    try:
        page = run_report.render(
            run_date=run.run_date, execution_name=run.execution_name, metrics=metrics,
            **_validation_curves(services, run.model_version), score_bins=_score_bins(services, run),
            importance=metrics.get("feature_importance", []), history=_published_metrics(services),
            drift=[{"feature": check.check_name.removeprefix("psi:"), "psi": check.value, "stable": check.passed}
                   for check in drift_checks], psi_warning=drift.PSI_WARNING,
            checks=[row for row in read_parquet(services.storage, attempt_prefix(
                "data_quality", run.run_date, run.execution_name)).select(
                ["check_name", "value", "threshold", "passed", "severity", "stage"]).to_pylist()
                if not row["check_name"].startswith("psi:")])  # the drift table shows those
    except Exception:
        logger.exception("the run report of %s could not be written", run.execution_name)
        return None
    key = report_key(run.run_date, run.execution_name)
    services.storage.write_bytes(key, page.encode())
    return services.storage.uri(key)


def _validation_curves(services: Services, model_version: str) -> dict:
    validation = ModelStore(services.storage).validation_scores(model_version)
    return {"labels": validation.column("churned").to_numpy().astype(float),
            "scores": validation.column("churn_probability").to_numpy()}


def _score_bins(services: Services, run: Run) -> list[dict]:
    rows = read_parquet(services.storage, attempt_prefix("weekly_summary", run.run_date, run.execution_name))
    return sorted((row for row in rows.to_pylist() if row["segment_type"] == SCORE_BIN), key=lambda row: row["segment"])


def _published_metrics(services: Services) -> list[dict]:
    """The metrics row of every published week (one small file each)."""
    partitions = services.catalog.partitions(table("model_metrics"))
    return [row | {"run_date": value} for value, location in partitions.items()
            for row in read_parquet(services.storage, services.storage.key_of(location)).to_pylist()]


def _write_weekly_summary(services: Services, run: Run, scored: int) -> None:
    """Add up the shards' segment totals and compare them with the previous published week's summary."""
    totals = SegmentTotals()
    for shard in read_json(services.storage, shard_list_key(run.run_date)):
        totals.merge(SegmentTotals.from_document(read_json(services.storage,
                                                           segment_totals_key(run.run_date, shard))))
    if totals.customers != scored:
        raise DataQualityError(f"the shards' segment totals count {totals.customers} customers for run_date "
                               f"{run.run_date}, the predictions {scored}; nothing was published")
    previous_run_date, previous = _previous_week(services, "weekly_summary", run.run_date) or (None, [])
    _write_row(services, attempt_prefix("weekly_summary", run.run_date, run.execution_name), "weekly_summary",
               summary_rows(totals, previous, previous_run_date))


def _emit_run_metrics(metrics_row: dict, rows_scored: int, previous_auc: float | None) -> None:
    values = {"AUC": (metrics_row["auc"], "None"), "LogLoss": (metrics_row["log_loss"], "None"),
              "RowsScored": (rows_scored, "Count"), "RowsTrained": (metrics_row["rows_trained"], "Count")}
    if previous_auc is not None:
        values["AucDrop"] = (round(previous_auc - metrics_row["auc"], 6), "None")
    emit(values, model_version=metrics_row["model_version"])


def _write_row(services: Services, prefix: str, table_name: str, rows: list[dict]) -> None:
    write_parquet(services.storage, f"{prefix}part-0.parquet", table(table_name).rows_table(rows))
