"""`engagement-pipeline doctor [--repair]`: check the catalog against storage, and put right what can be.

- A catalog partition behind its publication record (a crash between two Glue updates, a lost catalog.json):
  re-pointed at the record, so a lost catalog is rebuilt whole.
- A partition whose folder holds no data file, or a file whose Parquet footer does not read, or a landed file
  that changed since it was landed (its checksum): named, with what repairs it (ingest or run that week again).
- Orphans: managed folders (landings, execution results) and work files nothing points at, of weeks no run
  holds: removed. Do not repair while an ingest is landing a week: its folder is not published yet.

Every partition of every table is read, so on a large bucket this downloads every file once.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, Iterator

import pyarrow.parquet as pq

from pipeline.execution.week_lock import is_held
from pipeline.warehouse.layout import RUN_DATE_FOLDER, can_retire, is_managed_folder, work_prefix
from pipeline.warehouse.objects import data_keys
from pipeline.warehouse.ports import Services
from pipeline.warehouse.publication import (
    GROUPS,
    Publication,
    apply,
    changed_files,
    group_of,
    lagging_tables,
    publications,
    recorded,
)
from pipeline.warehouse.tables import TableDef, table, table_definitions


@dataclass(frozen=True)
class Finding:
    problem: str  # names the table, partition and file
    repair: str  # what puts it right
    fix: Callable[[], object] | None = None  # done by --repair; None where a person must act


def examine(services: Services) -> list[Finding]:
    records = {group: publications(services.storage, group) for group in GROUPS}  # read once: one GET each on S3
    return [*_catalog_behind_records(services, records), *_unlisted_run_history(services),
            *_damaged_partitions(services), *_orphans(services, records)]


def repair(findings: list[Finding]) -> list[Finding]:
    """Apply every automatic fix; return the findings left for a person."""
    for finding in findings:
        if finding.fix:
            finding.fix()
    return [finding for finding in findings if not finding.fix]


def _catalog_behind_records(services: Services, records: dict[str, list[Publication]]) -> Iterator[Finding]:
    for group, names in GROUPS.items():
        partitions = {name: services.catalog.partitions(table(name)) for name in names}
        for publication in records[group]:
            if not (lagging := lagging_tables(services, publication, partitions)):
                continue
            where = (f"{', '.join(table(name).qualified_name for name in lagging)} partition "
                     f"{table(lagging[0]).partition_key}={publication.value}")
            if empty := [key for key in publication.locations.values() if not data_keys(services.storage, key)]:
                # Only a record whose folders hold data is followed
                yield Finding(f"{where}: its publication record ({publication.published_by}) names "
                              f"{', '.join(map(services.storage.uri, empty))}, which holds no data file",
                              _again(lagging[0]))
                continue
            yield Finding(f"{where}: the catalog is behind the publication record ({publication.published_by}, "
                          f"{publication.published_at})", "re-point the catalog at the record",
                          lambda publication=publication: apply(services, publication))


def _unlisted_run_history(services: Services) -> Iterator[Finding]:
    """engagement.runs has no publication records: its week folders in storage are the truth."""
    runs = table("runs")
    folders = {match.group(1): services.storage.uri(f"{runs.location}run_date={match.group(1)}/")
               for key in services.storage.list_keys(runs.location)
               if (match := RUN_DATE_FOLDER.match(key.removeprefix(runs.location)))}
    missing = {week: folder for week, folder in folders.items() if week not in services.catalog.partitions(runs)}
    if missing:
        yield Finding(f"{runs.qualified_name}: {len(missing)} week(s) of run history in storage have no partition "
                      f"({', '.join(sorted(missing)[:3])}{', …' if len(missing) > 3 else ''})",
                      "register them", lambda: services.catalog.register_partitions(runs, missing))


def _damaged_partitions(services: Services) -> Iterator[Finding]:
    for definition in table_definitions().values():
        for value, location in services.catalog.partitions(definition).items():
            yield from _damaged_partition(services, definition, value, location)


def _damaged_partition(services: Services, definition: TableDef, value: str, location: str) -> Iterator[Finding]:
    again = _again(definition.name)
    where = _partition(definition, value)
    try:
        keys = data_keys(services.storage, services.storage.key_of(location))
    except ValueError:
        return  # registered by hand outside the warehouse: not ours to judge
    if not keys:
        yield Finding(f"{where} points at {location}, which holds no data file", again)
    for key in keys:
        if problem := _unreadable(services, key):
            yield Finding(f"{where}: {services.storage.uri(key)} does not read as Parquet ({problem})", again)
    record = recorded(services.storage, "snapshots", value) if definition.name == "snapshots" else None
    if record and services.storage.uri(record.locations["snapshots"]) == location:
        for problem in changed_files(services.storage, record):
            yield Finding(f"{where}: {problem}", again)


def _unreadable(services: Services, key: str) -> str | None:
    try:
        with services.storage.local_copy(key) as path:
            pq.read_metadata(path)
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        return str(error)
    return None


def _orphans(services: Services, records: dict[str, list[Publication]]) -> Iterator[Finding]:
    for definition in table_definitions().values():
        kept = _kept_folders(services, definition, records)
        for value, folder in _managed_folders(services, definition):
            if _week_is_free(services, definition, value) and all(can_retire(folder, key) for key in kept):
                yield Finding(f"{services.storage.uri(folder)}: no partition or publication record points at it",
                              "remove it", lambda folder=folder: services.storage.delete_prefix(folder))
    work_weeks = {parse_week(match.group(1)) for key in services.storage.list_keys("work/")
                  if (match := RUN_DATE_FOLDER.match(key.removeprefix("work/")))}
    for week in sorted(filter(None, work_weeks)):
        if not is_held(services.storage, week):
            folder = work_prefix(week)
            yield Finding(f"{services.storage.uri(folder)}: work files of a run that has ended", "remove them",
                          lambda folder=folder: services.storage.delete_prefix(folder))


def _kept_folders(services: Services, definition: TableDef, records: dict[str, list[Publication]]) -> list[str]:
    """Both what the catalog points at and what the records name: while the catalog lags, queries read the one."""
    keys = []
    for location in services.catalog.partitions(definition).values():
        try:
            keys.append(services.storage.key_of(location))
        except ValueError:
            pass  # outside the warehouse
    if group := group_of(definition):
        keys += [publication.locations[definition.name] for publication in records[group]
                 if definition.name in publication.locations]  # records from before the table existed lack it
    return keys


def _managed_folders(services: Services, definition: TableDef) -> set[tuple[str, str]]:
    """(partition value, folder key) of every folder the pipeline created in the table."""
    found = set()
    marker = f"{definition.partition_key}="
    for key in services.storage.list_keys(definition.location):
        rest = key[len(definition.location):]
        if not rest.startswith(marker) or rest.count("/") < 2:
            continue
        partition, folder_name = rest.split("/")[:2]
        folder = f"{definition.location}{partition}/{folder_name}/"
        if is_managed_folder(folder):
            found.add((partition.removeprefix(marker), folder))
    return found


def _week_is_free(services: Services, definition: TableDef, value: str) -> bool:
    """A result folder of a week being run may be about to be published."""
    if definition.partition_key != "run_date":
        return True
    week = parse_week(value)
    return week is not None and not is_held(services.storage, week)


def parse_week(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None  # a folder not named by the pipeline


def _again(table_name: str) -> str:
    return "ingest that week again" if table_name == "snapshots" else "run that week again"


def _partition(definition: TableDef, value: str) -> str:
    return f"{definition.qualified_name} partition {definition.partition_key}={value}"
