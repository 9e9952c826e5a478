"""RecordFailure (Lambda, called by an EventBridge rule when an execution fails, times out or is aborted): keep a
durable record of why, and give back the week the execution held. Published results are left untouched, but for
a publication the execution committed and did not finish switching (see `pipeline.warehouse.publication`): that
is finished.

It is not a state of the machine, so a failed execution stops at the failing state, where RedriveExecution (or
`engagement-pipeline resume` locally) continues it.
"""
from __future__ import annotations

import datetime as dt
import json
import logging

from pipeline.core.errors import CatalogDamagedError
from pipeline.execution.events import ExecutionEnded, RecordFailureEvent, root_cause
from pipeline.execution.week_lock import release_weeks_held_by, week_of_lock
from pipeline.results.run_history import list_week_of_runs, state_seconds, state_times, stopped_in, write_attempt_row
from pipeline.warehouse.layout import failure_record_key
from pipeline.warehouse.objects import write_json
from pipeline.warehouse.ports import Services
from pipeline.warehouse.publication import reconcile, recorded

logger = logging.getLogger(__name__)


def record_failure(services: Services, event: RecordFailureEvent) -> dict:
    ended = event.detail
    released = release_weeks_held_by(services.storage, ended.name, ended.redriveCount)
    execution_input = _parsed(ended.input)
    requested = execution_input.get("run_date") if isinstance(execution_input, dict) else None
    run_date = week_of_lock(released[0]) if released else requested
    record = {
        "execution_name": ended.name,
        "status": ended.status,
        "attempt": ended.redriveCount,
        "run_date": run_date,
        "input": execution_input,
        "error": ended.error or ended.status,
        "cause": root_cause(ended.cause or ""),  # what runs, engagement.runs and the report show
        "cause_detail": ended.cause or "",  # as Step Functions gave it
        "recorded_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "publication_finished": [],
    }
    write_json(services.storage, failure_record_key(ended.name), record)  # first: what follows reads the catalog
    week = _attempt_week(record)
    _write_attempt_row(services, ended, record, week)  # files only: kept even when the catalog is damaged
    _catalog_steps(services, ended, record, week)
    logger.error("execution %s ended %s: %s", ended.name, ended.status, record["error"],
                 extra={"error_type": record["error"], "cause": record["cause"]})
    return {**record, "weeks_released": released}


def _catalog_steps(services: Services, ended: ExecutionEnded, record: dict, week: dt.date) -> None:
    """Finish a committed publication and list the attempt's week of engagement.runs. A damaged catalog (maybe why
    the execution failed) leaves the failure record and the attempt's row as written, and is logged;
    `doctor --repair` catches up."""
    try:
        record["publication_finished"] = _finish_publication(services, record["run_date"])
        list_week_of_runs(services, week)
    except CatalogDamagedError as error:
        logger.error("execution %s: its failure is recorded, the catalog could not be updated: %s", ended.name, error)
    if record["publication_finished"]:
        write_json(services.storage, failure_record_key(ended.name), record)


def _attempt_week(record: dict) -> dt.date:
    """The week the attempt's row of engagement.runs goes under: its own, or the day it ended if it never knew it."""
    return _week(record["run_date"]) or dt.datetime.now(dt.timezone.utc).date()


def _write_attempt_row(services: Services, ended: ExecutionEnded, record: dict, week: dt.date) -> None:
    times = state_times(services, ended.executionArn)
    write_attempt_row(services, week, ended.name, ended.redriveCount, {
        "status": ended.status, **state_seconds(times), "failed_state": stopped_in(times), "error": record["error"],
        "cause": record["cause"]})


def _week(run_date: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(run_date)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None  # no week known


def _finish_publication(services: Services, run_date: object) -> list[str]:
    """A Publish that died after its commit point: finish its switch, so no table is left behind the other."""
    week = _week(run_date)
    if week is None:
        return []  # no week known, so nothing it could have published
    return reconcile(services, recorded(services.storage, "results", week.isoformat()))


def _parsed(text: object) -> object:
    try:
        return json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return text
