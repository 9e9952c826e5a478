"""`remove-week`: take a wrongly landed week (an off-cycle date, the wrong file) out of engagement.snapshots.

Its publication record goes with its partition, so no repair brings it back, and its kept feature rows
(engagement.features) go too; its folder is retired, not deleted (pipeline.warehouse.retirement): a run or query
still reading it finishes, and ingesting the file again brings the week back. The record is retired first, so a
crash half way leaves the folder kept, and running it again finishes.
"""
from __future__ import annotations

import datetime as dt

from pipeline.core.errors import PipelineError
from pipeline.execution.week_lock import WeekLockedError, is_held
from pipeline.warehouse.kept_features import forget_week
from pipeline.warehouse.layout import is_managed_folder, week_lock_key
from pipeline.warehouse.ports import Services
from pipeline.warehouse.publication import withdraw
from pipeline.warehouse.retirement import Retirement, retire
from pipeline.warehouse.tables import table


def remove_landed_week(services: Services, snapshot_date: dt.date) -> Retirement | None:
    """Remove the week's partition and record; return its folder's retirement (None for a folder registered by
    hand, which is left as it was)."""
    snapshots, value = table("snapshots"), snapshot_date.isoformat()
    location = services.catalog.partitions(snapshots).get(value)
    if location is None:
        raise PipelineError(f"no snapshot is landed for {value}: nothing to remove")
    if is_held(services.storage, snapshot_date):
        raise WeekLockedError(f"run_date {value} is being run ({services.storage.uri(week_lock_key(snapshot_date))})"
                              ": remove the week once that run has ended")
    folder = _managed_folder(services, location)
    retirement = retire(services.storage, folder, "snapshots", value, "removed by remove-week") if folder else None
    withdraw(services.storage, "snapshots", value)
    services.catalog.drop_partition(snapshots, value)
    forget_week(services, snapshot_date)  # its feature rows go with it; the weeks after it see their sources change
    return retirement


def _managed_folder(services: Services, location: str) -> str | None:
    try:
        folder = services.storage.key_of(location)
    except ValueError:
        return None  # outside the warehouse
    return folder if is_managed_folder(folder) else None
