"""Cleanup (Lambda, first state, once its handler has resolved the run with `pipeline.run`): take the week's lock,
then remove the week's temporary outputs and the result folders no partition points at (earlier executions
that failed or were replaced). Under the lock no other run of the week can publish while this reads the catalog.
"""
from __future__ import annotations

import datetime as dt
import logging

from pipeline.keys import can_retire, work_prefix
from pipeline.ports import Services
from pipeline.run import Run
from pipeline.tables import table
from pipeline.week_lock import acquire_week

logger = logging.getLogger(__name__)

RESULT_TABLES = ("predictions", "model_metrics")


def cleanup(services: Services, run: Run) -> int:
    """Take the week for this execution, then clean it; return how many files went."""
    acquire_week(services.storage, run, dt.timedelta(hours=services.settings.week_lock_stale_hours))
    return clean_week(services, run.run_date)


def clean_week(services: Services, run_date: dt.date) -> int:
    """Remove the week's stale outputs; return how many files went."""
    removed = services.storage.delete_prefix(work_prefix(run_date))
    for table_name in RESULT_TABLES:
        removed += _remove_unpublished_attempts(services, table_name, run_date)
    logger.info("removed %d stale file(s) of run_date %s", removed, run_date)
    return removed


def _remove_unpublished_attempts(services: Services, table_name: str, run_date: dt.date) -> int:
    definition = table(table_name)
    value = run_date.isoformat()
    partition_prefix = definition.partition_prefix(value)
    published = services.catalog.partitions(definition).get(value)
    published_key = services.storage.key_of(published) if published else None
    folders = {key[:key.index("/", len(partition_prefix)) + 1]
               for key in services.storage.list_keys(partition_prefix) if "/" in key[len(partition_prefix):]}
    stale = [folder for folder in folders if can_retire(folder, published_key)]
    return sum(services.storage.delete_prefix(folder) for folder in stale)
