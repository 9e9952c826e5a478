"""The weeks published before: the newest one's rows of a results table (for week-on-week comparisons) and every
published week's metrics rows (the report's history)."""
from __future__ import annotations

import datetime as dt
import logging

from pipeline.warehouse.objects import read_parquet
from pipeline.warehouse.ports import Services
from pipeline.warehouse.tables import table

logger = logging.getLogger(__name__)


def previous_week(services: Services, table_name: str, run_date: dt.date) -> tuple[dt.date, list[dict]] | None:
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


def published_metrics(services: Services, table_name: str = "model_metrics") -> list[dict]:
    """The metrics row of every published week (one small file each), of model_metrics or realized_performance."""
    partitions = services.catalog.partitions(table(table_name))
    return [row | {"run_date": value} for value, location in partitions.items()
            for row in read_parquet(services.storage, services.storage.key_of(location)).to_pylist()]
