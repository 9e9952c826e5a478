"""`engagement-pipeline doctor [--repair]`: check the catalog against storage, and put right what can be.

- A damaged catalog.json (truncated, empty, wrong-shaped, unreadable): set aside, kept, and rebuilt from the
  publication records as a lost one is.
- A catalog partition behind its publication record (a crash between two Glue updates, a lost catalog.json):
  re-pointed at the record, so a lost catalog is rebuilt whole.
- A partition whose folder holds no data file, or a file whose Parquet footer does not read, or a landed file
  that changed since it was landed (its checksum): named, with what repairs it (ingest or run that week again).
- A landed week off the weekly cycle of the others: named, with the `remove-week` command that takes it out.
- Retired folders (a re-ingested week's old landing, a removed week): kept for RETIRED_FILES_DAYS, and said;
  removed past it.
- Orphans: managed folders (landings, execution results) and work files nothing points at, of weeks no run
  holds: removed. Do not repair while an ingest is landing a week: its folder is not published yet.

Every partition of every table is read, so on a large bucket this downloads every file once.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

import pyarrow.parquet as pq

from local_runtime.run_records import resume_allowed
from pipeline.core.errors import CatalogDamagedError
from pipeline.execution.identity import landed_weeks
from pipeline.execution.week_lock import is_held
from pipeline.execution.work import Work, now_utc, works_of_week
from pipeline.landing.week_checks import off_cycle_weeks
from pipeline.warehouse.layout import (
    RUN_DATE_FOLDER,
    WORK_PREFIX,
    can_retire,
    execution_of_folder,
    is_managed_folder,
)
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
from pipeline.warehouse.retirement import expired, in_grace, remove_retired, retirements
from pipeline.warehouse.tables import TableDef, table, table_definitions


@dataclass(frozen=True)
class Finding:
    problem: str  # names the table, partition and file
    repair: str  # what puts it right
    fix: Callable[[], object] | None = None  # done by --repair; None where a person must act


def examine(services: Services, discard_resumable: bool = False) -> list[Finding]:
    """Every finding, and with `discard_resumable` the work of resumable failed executions to discard too."""
    if damage := _damaged_catalog(services):
        # The rest is examined as for a lost catalog; --repair sets the file aside first, then rebuilds.
        return [damage, *_examine(replace(services, catalog=_ReadAsEmpty(services.catalog)), discard_resumable)]
    return _examine(services, discard_resumable)


def _examine(services: Services, discard_resumable: bool) -> list[Finding]:
    records = {group: publications(services.storage, group) for group in GROUPS}  # read once: one GET each on S3
    findings = [*_catalog_behind_records(services, records), *_unlisted_run_history(services),
                *_damaged_partitions(services), *_off_cycle_weeks(services), *_expired_retirements(services),
                *_orphans(services, records)]
    if discard_resumable:
        findings += _discarding_resumable_work(services, records)
    return findings


def in_retention(services: Services) -> list[str]:
    """The retired folders kept for readers that may still be on them, each as a sentence: not a problem."""
    days = services.settings.retired_files_days
    return [f"{services.storage.uri(retirement.folder)}: retired on {utc(retirement.retired_on)} "
            f"({retirement.reason}); kept until {utc(retirement.kept_until(days))} (RETIRED_FILES_DAYS={days})"
            for retirement in in_grace(services)]


def utc(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC"


def repair(findings: list[Finding]) -> list[Finding]:
    """Apply every automatic fix; return the findings left for a person."""
    for finding in findings:
        if finding.fix:
            finding.fix()
    return [finding for finding in findings if not finding.fix]


def _damaged_catalog(services: Services) -> Finding | None:
    try:
        services.catalog.partitions(table("snapshots"))
    except CatalogDamagedError as damage:
        aside = Path(f"{damage.path}.damaged-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}")
        # Only the local catalog's file can be damaged: set_aside is the LocalCatalog's
        return Finding(f"the catalog {damage.path} is damaged: {damage.problem}",
                       f"set it aside as {aside} (kept), and rebuild it from the publication records (below)",
                       lambda: services.catalog.set_aside(aside))
    return None


class _ReadAsEmpty:
    """A damaged catalog as the rebuild sees it: listing nothing, as a lost one; its edits go to the catalog, which
    takes them once the damaged file is set aside (the first fix)."""

    def __init__(self, catalog):
        self._catalog = catalog

    def partitions(self, definition: TableDef) -> dict[str, str]:
        return {}

    def __getattr__(self, name: str):
        return getattr(self._catalog, name)


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


def _off_cycle_weeks(services: Services) -> Iterator[Finding]:
    for week, problem in off_cycle_weeks(landed_weeks(services)).items():
        yield Finding(f"{_partition(table('snapshots'), week.isoformat())}: {problem}; every run whose window holds "
                      "it fails", f"remove it with `engagement-pipeline remove-week --snapshot-date {week}` (its files "
                      "stay in retention), then ingest its file under the right date if it belongs to one")


def _expired_retirements(services: Services) -> Iterator[Finding]:
    days = services.settings.retired_files_days
    for retirement in expired(services):
        yield Finding(f"{services.storage.uri(retirement.folder)}: retired on {utc(retirement.retired_on)} "
                      f"({retirement.reason}), past the {days}-day grace (RETIRED_FILES_DAYS)", "remove it",
                      lambda retirement=retirement: remove_retired(services, retirement))


def _unreadable(services: Services, key: str) -> str | None:
    try:
        with services.storage.local_copy(key) as path:
            pq.read_metadata(path)
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        return str(error)
    return None


def _orphans(services: Services, records: dict[str, list[Publication]]) -> Iterator[Finding]:
    works = _work_of_free_weeks(services)
    resumable = {work.execution_name for work in works if work.resumable(now_utc())}
    for definition in table_definitions().values():
        kept = _kept_folders(services, definition, records)
        for value, folder in _managed_folders(services, definition):
            if execution_of_folder(folder) in resumable:
                continue  # a resume of it publishes this folder
            if _week_is_free(services, definition, value) and all(can_retire(folder, key) for key in kept):
                yield Finding(f"{services.storage.uri(folder)}: no partition or publication record points at it",
                              "remove it", lambda folder=folder: services.storage.delete_prefix(folder))
    for work in works:
        if work.execution_name not in resumable:
            yield Finding(f"{services.storage.uri(work.folder)}: work files of a run that has ended and can no "
                          "longer be resumed", "remove them",
                          lambda folder=work.folder: services.storage.delete_prefix(folder))


def _work_of_free_weeks(services: Services) -> list[Work]:
    """Every execution's work folder in weeks no run holds (a running one's work is in use); the work of a local
    run that `resume` will not continue (interrupted, killed) is not resumable, whatever its redrive window."""
    weeks = {parse_week(match.group(1)) for key in services.storage.list_keys(WORK_PREFIX)
             if (match := RUN_DATE_FOLDER.match(key.removeprefix(WORK_PREFIX)))}
    return [work if work.execution_name is None or resume_allowed(services.storage, work.execution_name)
            else replace(work, resumable_until=None)
            for week in sorted(filter(None, weeks)) if not is_held(services.storage, week)
            for work in works_of_week(services.storage, week)]


def resumable_work(services: Services) -> list[str]:
    """The work kept for failed executions that can still be resumed or redriven, each as a sentence."""
    return [f"the work of failed execution {work.execution_name} at {services.storage.uri(work.folder)}: "
            f"`engagement-pipeline resume {work.execution_name}` (on AWS: `redrive`) needs it, until "
            f"{work.resumable_until:%Y-%m-%d %H:%M} UTC; `doctor --repair --discard-resumable` removes it"
            for work in _work_of_free_weeks(services) if work.resumable(now_utc())]


def _discarding_resumable_work(services: Services, records: dict[str, list[Publication]]) -> list[Finding]:
    """What `--discard-resumable` removes: the work and unpublished results of each resumable failed execution."""
    findings = []
    for work in _work_of_free_weeks(services):
        if work.resumable(now_utc()):
            folders = [work.folder, *_unpublished_results_of(services, records, work.execution_name)]
            findings.append(Finding(
                f"the work of failed execution {work.execution_name} at {services.storage.uri(work.folder)}",
                f"discard it: execution {work.execution_name} can no longer be resumed (start a new run of its week)",
                lambda folders=folders: [services.storage.delete_prefix(folder) for folder in folders]))
    return findings


def _unpublished_results_of(services: Services, records: dict[str, list[Publication]], execution_name: str
                            ) -> list[str]:
    found = []
    for definition in table_definitions().values():
        kept = _kept_folders(services, definition, records)
        found += [folder for _, folder in _managed_folders(services, definition)
                  if execution_of_folder(folder) == execution_name and all(can_retire(folder, key) for key in kept)]
    return found


def _kept_folders(services: Services, definition: TableDef, records: dict[str, list[Publication]]) -> list[str]:
    """What the catalog points at and what the records name (while the catalog lags, queries read the one), and
    what is retired."""
    keys = []
    for location in services.catalog.partitions(definition).values():
        try:
            keys.append(services.storage.key_of(location))
        except ValueError:
            pass  # outside the warehouse
    if group := group_of(definition):
        keys += [publication.locations[definition.name] for publication in records[group]
                 if definition.name in publication.locations]  # records from before the table existed lack it
    # Retired folders go past their grace (_expired_retirements), never as orphans: readers may be on them
    return keys + [retirement.folder for retirement in retirements(services.storage)
                   if retirement.folder.startswith(definition.location)]


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
