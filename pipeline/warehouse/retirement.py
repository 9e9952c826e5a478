"""Retirement: a folder the catalog stopped pointing at (a re-ingested week's old landing, a removed week) is kept
where it is for RETIRED_FILES_DAYS, so a query or run that resolved it before the switch finishes reading it.

A record, `retired/<folder key>.json`, says which folder, of which partition, when and why. Past the grace, the
next ingest (landing writes snapshots anyway; no scheduled Lambda may delete them) and `doctor --repair` remove
the folder and its record; until then `doctor` keeps it and says so. Only folders the pipeline created are
retired, and one a partition or publication record points at again is never removed.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from pipeline.warehouse.layout import can_retire
from pipeline.warehouse.objects import read_json, write_json
from pipeline.warehouse.ports import Services, Storage
from pipeline.warehouse.publication import group_of, recorded
from pipeline.warehouse.tables import table

RETIRED_PREFIX = "retired/"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class Retirement:
    folder: str  # the retired folder's key
    table: str  # the table whose partition pointed at it
    value: str  # that partition's value
    reason: str
    retired_at: str = field(default_factory=lambda: _now().isoformat(timespec="seconds"))

    @property
    def key(self) -> str:
        return retirement_key(self.folder)

    @property
    def retired_on(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.retired_at)

    def kept_until(self, grace_days: int) -> dt.datetime:
        return self.retired_on + dt.timedelta(days=grace_days)


def retirement_key(folder: str) -> str:
    return f"{RETIRED_PREFIX}{folder.rstrip('/')}.json"


def retire(storage: Storage, folder: str, table_name: str, value: str, reason: str) -> Retirement:
    """Record the folder as retired, leaving its files in place."""
    retirement = Retirement(folder, table_name, value, reason)
    write_json(storage, retirement.key, asdict(retirement))
    return retirement


def retirements(storage: Storage) -> list[Retirement]:
    return [Retirement(**read_json(storage, key)) for key in storage.list_keys(RETIRED_PREFIX) if key.endswith(".json")]


def in_grace(services: Services) -> list[Retirement]:
    return [retirement for retirement in retirements(services.storage) if not _expired(services, retirement)]


def expired(services: Services) -> list[Retirement]:
    return [retirement for retirement in retirements(services.storage) if _expired(services, retirement)]


def _expired(services: Services, retirement: Retirement) -> bool:
    return retirement.kept_until(services.settings.retired_files_days) <= _now()


def remove_retired(services: Services, retirement: Retirement) -> int:
    """Remove the folder and its record; return how many files went. A folder pointed at again keeps its files."""
    removed = 0 if _pointed_at(services, retirement) else services.storage.delete_prefix(retirement.folder)
    services.storage.delete_prefix(retirement.key)
    return removed


def remove_expired(services: Services) -> int:
    """Remove every retired folder past the grace; return how many files went."""
    return sum(remove_retired(services, retirement) for retirement in expired(services))


def _pointed_at(services: Services, retirement: Retirement) -> bool:
    """Does the partition, or its publication record, point at the folder (or inside or around it) again?"""
    definition, kept = table(retirement.table), []
    if location := services.catalog.partitions(definition).get(retirement.value):
        try:
            kept.append(services.storage.key_of(location))
        except ValueError:
            pass  # registered by hand outside the warehouse: cannot be this folder
    group = group_of(definition)
    if group and (record := recorded(services.storage, group, retirement.value)):
        kept += [key for name, key in record.locations.items() if name == retirement.table]
    return any(not can_retire(retirement.folder, key) for key in kept)
