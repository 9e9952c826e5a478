"""Ingest: validate a weekly snapshot against the contract, write it to a fresh folder, then point the catalog
partition at it (with the file's checksum in its publication record, so a file changed later is caught). Re-landing
a week replaces it; a reader sees the old week or the new one, never a mix, and the old folder is retired rather
than deleted (pipeline.warehouse.retirement), so a query or run already reading it finishes.
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid
from pathlib import Path
from typing import Callable, Iterable

import pyarrow as pa

from pipeline.core.errors import ContractError
from pipeline.execution.identity import landed_weeks
from pipeline.landing.contract_checks import read_snapshot_file, validate_snapshot
from pipeline.landing.week_checks import compare_with_previous_week, off_cycle, profile
from pipeline.warehouse.layout import can_retire, landing_prefix
from pipeline.warehouse.contract import arrow_schema
from pipeline.warehouse.objects import parquet_output, write_parquet
from pipeline.warehouse.ports import Services
from pipeline.warehouse.publication import Publication, publish, recorded
from pipeline.warehouse.retirement import remove_expired, retire

logger = logging.getLogger(__name__)


def land_snapshot(services: Services, snapshot: pa.Table, snapshot_date: dt.date) -> str:
    """Write a conformed snapshot and publish it as the week's partition; return its location."""
    return _land(services, snapshot_date, lambda key: write_parquet(services.storage, key, snapshot))


def land_snapshot_batches(services: Services, batches: Iterable[pa.RecordBatch], snapshot_date: dt.date) -> str:
    """land_snapshot of a week given in conformed batches, written as they come: memory holds one."""
    def write(key: str) -> None:
        with parquet_output(services.storage, key, arrow_schema()) as writer:
            for batch in batches:
                writer.write_batch(batch)
    return _land(services, snapshot_date, write)


def _land(services: Services, snapshot_date: dt.date, write: Callable[[str], None]) -> str:
    value, landing_id = snapshot_date.isoformat(), uuid.uuid4().hex[:12]
    folder = landing_prefix(snapshot_date, landing_id)
    data_key = f"{folder}part-0.parquet"
    write(data_key)
    # Retired before the switch: a crash between the two leaves the old landing in its grace, never unrecorded (a
    # retired folder its partition still points at keeps its files)
    previous = recorded(services.storage, "snapshots", value)
    replaced = previous.locations["snapshots"] if previous else None
    if replaced and can_retire(replaced, folder):
        retire(services.storage, replaced, "snapshots", value, f"replaced by a re-ingest, landing {landing_id}")
    publish(services, Publication("snapshots", value, {"snapshots": folder}, published_by=f"landing {landing_id}",
                                  checksums={data_key: services.storage.checksum(data_key)}))
    # Landing's own role removes what landing retired: Cleanup's (on AWS, a scheduled Lambda) never deletes snapshots
    remove_expired(services)
    return services.storage.uri(folder)


def ingest_file(services: Services, path: Path, snapshot_date: dt.date,
                force: bool = False) -> tuple[int, str, list[str]]:
    """Validate a user's weekly CSV/Parquet against the contract, the weekly cycle (unless `force`) and the week
    before, and land it; return (rows, location, notes)."""
    cycle_note = _check_cycle(services, snapshot_date, force)
    snapshot, notes = validate_snapshot(read_snapshot_file(path), str(path))
    notes += cycle_note + compare_with_previous_week(services, profile(snapshot.to_batches()), snapshot_date,
                                                         str(path))
    location = land_snapshot(services, snapshot, snapshot_date)
    logger.info("landed %d rows of %s for snapshot %s at %s", snapshot.num_rows, path, snapshot_date, location)
    return snapshot.num_rows, location, notes


def _check_cycle(services: Services, snapshot_date: dt.date, force: bool) -> list[str]:
    """Refuse an off-cycle date before the file is read; forced, land it with a note of what it will do."""
    if not (problem := off_cycle(snapshot_date, landed_weeks(services))):
        return []
    if not force:
        raise ContractError(f"{problem}. Nothing was landed. Ingest it under its on-cycle date, or pass --force to "
                            "land it off-cycle anyway")
    return [f"{problem}: landed anyway (--force). Every run whose window holds it fails until it is removed: "
            f"engagement-pipeline remove-week --snapshot-date {snapshot_date}"]
