"""`engagement.runs`: one row per execution attempt that ended, written by the state that ends it (Publish when
it succeeds; RecordFailure, which EventBridge calls, when it fails, times out or is aborted), with the seconds of
each state from the execution's own history (Step Functions' on AWS, the local executor's here).

The row's key is the execution and its attempt, so a Publish that wrote SUCCEEDED and then failed is overwritten
by RecordFailure's FAILED row, and a redriven execution keeps one row per attempt. The table's partitions point at
the week's folder itself: rows accumulate there, and Cleanup never removes them.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import time

from pipeline.warehouse.objects import write_parquet
from pipeline.warehouse.ports import Services, StateTime
from pipeline.warehouse.tables import table

logger = logging.getLogger(__name__)
# The state machine's top-level states that do work (not its Choice, not Done); tests keep them in step with the ASL.
RUN_STATES = ("Cleanup", "PrepareData", "PrepareFeatures", "PrepareSets", "Training", "Inference", "Publish")


def seconds_column(state: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", state).lower() + "_seconds"


def state_times(services: Services, execution_id: str | None) -> dict[str, StateTime]:
    """The execution's state times, read once; empty when the history cannot be read (then the row is kept with
    what is known: the history is for reading, never a reason to fail a run's last step)."""
    try:
        return services.history.state_times(execution_id) if execution_id else {}
    except Exception as error:
        logger.warning("no state durations for %s: its history could not be read (%s)", execution_id, error)
        return {}


def state_seconds(times: dict[str, StateTime]) -> dict[str, float | None]:
    """Each run state's seconds so far (a state still running counts up to now) and their total (null unknown)."""
    row: dict[str, float | None] = {seconds_column(state): None for state in RUN_STATES} | {"duration_seconds": None}
    now = time.time()
    seconds = {state: times[state].up_to(now) for state in RUN_STATES if state in times}
    row |= {seconds_column(state): round(value, 3) for state, value in seconds.items()}
    if seconds:
        row["duration_seconds"] = round(sum(seconds.values()), 3)  # the states run one after another
    return row


def stopped_in(times: dict[str, StateTime]) -> str | None:
    """The run state an execution stopped in (it failed there, or was still in it), if its history says."""
    return next((state for state in RUN_STATES
                 if state in times and (times[state].stopped or times[state].open_since is not None)), None)


def record_attempt(services: Services, run_date: dt.date, execution_name: str, attempt: int, row: dict) -> str:
    """Write the attempt's row into the week's folder and make sure the catalog lists that folder; return its key."""
    key = write_attempt_row(services, run_date, execution_name, attempt, row)
    list_week_of_runs(services, run_date)
    return key


def write_attempt_row(services: Services, run_date: dt.date, execution_name: str, attempt: int, row: dict) -> str:
    """Write the attempt's row into the week's folder, which storage keeps whatever the catalog's state; return its
    key."""
    definition = table("runs")
    key = f"{definition.partition_prefix(run_date.isoformat())}{execution_name}.attempt-{attempt}.parquet"
    values = row | {"execution_name": execution_name, "attempt": attempt,
                    "ended_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    write_parquet(services.storage, key, definition.rows_table([values]))
    return key


def list_week_of_runs(services: Services, run_date: dt.date) -> None:
    """Make sure the catalog lists the week's folder of engagement.runs (`doctor --repair` does it for a folder
    the catalog missed)."""
    definition = table("runs")
    prefix = definition.partition_prefix(run_date.isoformat())
    services.catalog.put_partition(definition, run_date.isoformat(), services.storage.uri(prefix))
