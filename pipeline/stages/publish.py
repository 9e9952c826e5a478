"""Publish (Lambda): check inference wrote every customer, write the metrics row, the week's segment summary (from
the shards' totals) and its data-quality rows, then re-point the week's partitions of every results table at this
execution's folders (the publication record first, then one catalog write; see `pipeline.warehouse.publication`),
point the API at the customers the shards loaded into the serving store (`pipeline.serving.store`), write the run
report and give the week back.

The folders the partitions pointed at before are left for the next Cleanup of that week, so queries already
reading them finish.
"""
from __future__ import annotations

import datetime as dt
import logging

from pipeline.core.emf import emit
from pipeline.core.errors import DataQualityError
from pipeline.execution.attempt import current_attempt
from pipeline.execution.identity import Run
from pipeline.execution.week_lock import hold_week, release_week
from pipeline.execution.work import check_inputs
from pipeline.model import champion
from pipeline.model.store import ModelStore
from pipeline.results.data_quality import drift_checks, held, record_checks
from pipeline.results.published_weeks import previous_week
from pipeline.results.realized_performance import realized_of_execution
from pipeline.results.report import write_report
from pipeline.results.run_history import record_attempt, state_seconds, state_times
from pipeline.results.weekly_summary import write_weekly_summary
from pipeline.serving.store import ServedWeek, expiry, publish_week
from pipeline.warehouse.layout import attempt_prefix, work_prefix
from pipeline.warehouse.objects import parquet_row_count, write_execution_rows
from pipeline.warehouse.ports import Services
from pipeline.warehouse.publication import GROUPS, Publication
from pipeline.warehouse.publication import publish as publish_partitions

logger = logging.getLogger(__name__)


def publish(services: Services, run: Run, expected_rows: int, execution_id: str | None = None) -> dict:
    """`execution_id` (the execution's ARN) reads the seconds of each state for the runs row (None: unknown)."""
    hold_week(services, run)
    check_inputs(services, run)
    run_date, execution_name = run.run_date, run.execution_name
    predictions_prefix = attempt_prefix("predictions", run_date, execution_name)
    scored = parquet_row_count(services.storage, predictions_prefix)
    if scored != expected_rows:
        raise DataQualityError(f"inference wrote {scored} predictions for run_date {run_date}, expected "
                               f"{expected_rows} (one per customer of the week); nothing was published")
    metrics = ModelStore(services.storage).metrics(run.model_version)
    drift = drift_checks(services, run, metrics.get("drift_reference"))
    record_checks(services, run, "Publish", [held("customers_scored", scored, f"== {expected_rows}",
                                                  "one prediction for each customer of the week"), *drift])
    realized = realized_of_execution(services, run)
    metrics_row = {**metrics, "rows_scored": scored, "execution_name": execution_name,
                   "validation_week": dt.date.fromisoformat(metrics["validation_week"])}
    write_execution_rows(services.storage, "model_metrics", run_date, execution_name, [metrics_row])
    write_weekly_summary(services, run, scored)
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
    _serve_week(services, run, metrics.get("scored_with", run.model_version), scored)
    report = write_report(services, run, metrics | {"rows_scored": scored}, drift, realized)
    services.storage.delete_prefix(work_prefix(run))
    release_week(services.storage, run)
    logger.info("published %d predictions and the metrics row for run_date %s", scored, run_date)
    _emit_run_metrics(metrics, scored, realized, _previous_realized_auc(services, run_date))
    return {"rows_published": scored, "predictions_location": services.storage.uri(predictions_prefix),
            "auc": metrics["auc"], "bayes_auc": metrics["bayes_auc"],
            "realized_auc": realized["auc"] if realized else None, "report_location": report}


def _serve_week(services: Services, run: Run, model_version: str, customers: int) -> None:
    """Last: point the API at the week's items, which the shards loaded under this execution's version."""
    week = ServedWeek(run.run_date.isoformat(), run.execution_name, model_version,
                      dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), customers)
    current = publish_week(services.serving, week, expiry(services.settings.serving_days))
    purged = services.serving.purge_expired()
    logger.info("the API serves run_date %s%s (%d expired item(s) purged)", run.run_date,
                " as the newest week" if current else ", a week before the newest it serves", purged)


def _previous_realized_auc(services: Services, run_date: dt.date) -> float | None:
    previous = previous_week(services, "realized_performance", run_date)
    return previous[1][0]["auc"] if previous and previous[1] else None


def _emit_run_metrics(metrics_row: dict, rows_scored: int, realized: dict | None,
                      previous_realized_auc: float | None) -> None:
    """The week's figures for CloudWatch; AucDrop (the alarm's) compares the realized AUC, the scores' true
    performance, with the one published the week before."""
    values = {"AUC": (metrics_row["auc"], "None"), "LogLoss": (metrics_row["log_loss"], "None"),
              "RowsScored": (rows_scored, "Count"), "RowsTrained": (metrics_row["rows_trained"], "Count")}
    if realized and realized["auc"] is not None:
        values["RealizedAUC"] = (realized["auc"], "None")
        if previous_realized_auc is not None:
            values["AucDrop"] = (round(previous_realized_auc - realized["auc"], 6), "None")
    emit(values, model_version=metrics_row["model_version"])
