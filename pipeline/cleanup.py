"""Cleanup before a run: remove the week's temporary outputs and unpublished leftovers of failed attempts."""
from __future__ import annotations

import datetime as dt

from pipeline.prepare import work_prefix
from pipeline.services import Services
from pipeline.tables import table

RESULT_TABLES = ("predictions", "model_metrics")


def clean_run(services: Services, run_date: dt.date) -> dict:
    removed = services.storage.delete_prefix(work_prefix(run_date))
    for table_name in RESULT_TABLES:
        removed += _remove_unpublished_attempts(services, table_name, run_date)
    return {"files_removed": removed}


def _remove_unpublished_attempts(services: Services, table_name: str, run_date: dt.date) -> int:
    definition = table(table_name)
    value = run_date.isoformat()
    published = services.catalog.partitions(definition).get(value)
    published_key = services.storage.key_of(published) if published else None
    attempts = {key[:key.index("/", len(definition.partition_prefix(value))) + 1]
                for key in services.storage.list_keys(definition.partition_prefix(value))}
    stale = [attempt for attempt in attempts if attempt != published_key]
    return sum(services.storage.delete_prefix(attempt) for attempt in stale)
