"""What is published, recorded in storage: the truth the catalog follows, and is rebuilt from.

Every switch of a week's partitions (its results by Publish, its snapshot by ingest) first writes one record
object, the commit point, then points the catalog at what it names. Glue cannot switch two tables in one call,
so a crash between its updates leaves the catalog behind the record, never ahead of it; a retried Publish,
RecordFailure, the week's next Cleanup or `doctor --repair` finishes the switch from the record. A lost catalog
(a deleted catalog.json, dropped Glue partitions) is rebuilt from the records.

Locations are keys relative to the warehouse root, so a copied data directory or bucket stays valid.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from pipeline.warehouse.objects import read_json, write_json
from pipeline.warehouse.ports import Services, Storage
from pipeline.warehouse.tables import TableDef, table

PUBLICATIONS_PREFIX = "publications/"
REPAIR_COMMAND = "engagement-pipeline doctor --repair (PIPELINE_RUNTIME=aws for the deployed stack)"
# The tables whose partitions switch together, by the one record that names them all.
GROUPS = {"results": ("predictions", "model_metrics", "qa_predictions", "weekly_summary", "data_quality",
                      "realized_performance"),
          "snapshots": ("snapshots",),
          "features": ("features",),
          "events": ("events", "event_days")}


@dataclass(frozen=True)
class Publication:
    group: str
    value: str  # the partition value the tables share (a run_date, a snapshot_date or an events upload)
    locations: dict[str, str]  # table name -> folder key
    published_by: str  # the execution, or the landing
    checksums: dict[str, str] = field(default_factory=dict)  # data file key -> checksum, taken as it was written
    # What derived data was made from (pipeline.warehouse.kept_features): it is made again when they change
    sources: dict[str, str] = field(default_factory=dict)
    published_at: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))

    @property
    def key(self) -> str:
        return publication_key(self.group, self.value)


def publication_key(group: str, value: str) -> str:
    return f"{PUBLICATIONS_PREFIX}{group}/{value}.json"


def group_of(definition: TableDef) -> str | None:
    return next((group for group, names in GROUPS.items() if definition.name in names), None)


def publish(services: Services, publication: Publication) -> None:
    """Commit the record, then switch the catalog to it."""
    write_json(services.storage, publication.key, asdict(publication))
    apply(services, publication)


def apply(services: Services, publication: Publication) -> None:
    services.catalog.publish_partitions(publication.value, {
        table(name): services.storage.uri(key) for name, key in publication.locations.items()})


def withdraw(storage: Storage, group: str, value: str) -> None:
    """Forget a partition on purpose (the catalog's entry is dropped by the caller), so no repair brings it back."""
    storage.delete_prefix(publication_key(group, value))


def recorded(storage: Storage, group: str, value: str) -> Publication | None:
    try:
        return _read(storage, publication_key(group, value))
    except FileNotFoundError:
        return None


def publications(storage: Storage, group: str) -> list[Publication]:
    prefix = f"{PUBLICATIONS_PREFIX}{group}/"
    return [_read(storage, key) for key in storage.list_keys(prefix) if key.endswith(".json")]


def recorded_between(storage: Storage, group: str, first: str, last: str) -> list[Publication]:
    """The group's records of partition values from `first` to `last` (one listing, then only those read)."""
    prefix = f"{PUBLICATIONS_PREFIX}{group}/"
    return [_read(storage, key) for key in storage.list_keys(prefix)
            if key.endswith(".json") and first <= key.removeprefix(prefix).removesuffix(".json") <= last]


def _read(storage: Storage, key: str) -> Publication:
    return Publication(**read_json(storage, key))


def lagging_tables(services: Services, publication: Publication,
                   partitions: dict[str, dict[str, str]] | None = None) -> list[str]:
    """The tables whose catalog partition does not point where the record says (given `partitions`, each
    table's, or reading them)."""
    partitions = partitions or {name: services.catalog.partitions(table(name)) for name in publication.locations}
    return [name for name, key in publication.locations.items()
            if partitions[name].get(publication.value) != services.storage.uri(key)]


def reconcile(services: Services, publication: Publication | None) -> list[str]:
    """Finish a switch the catalog has not caught up with; return the tables re-pointed."""
    if publication is None:
        return []
    lagging = lagging_tables(services, publication)
    if lagging:
        apply(services, publication)
    return lagging


def published_locations(services: Services, group: str) -> dict[str, dict[str, str]]:
    """Each table of the group: partition value -> location, the catalog's entries overlaid by the records' (what
    must never be deleted, even while the catalog lags)."""
    found = {name: dict(services.catalog.partitions(table(name))) for name in GROUPS[group]}
    for publication in publications(services.storage, group):
        for name, key in publication.locations.items():
            found[name][publication.value] = services.storage.uri(key)
    return found


def changed_files(storage: Storage, publication: Publication) -> list[str]:
    """The record's data files that are gone or no longer hold what was written, each as a sentence."""
    problems = []
    for key, expected in publication.checksums.items():
        try:
            actual = storage.checksum(key)
        except FileNotFoundError:
            problems.append(f"{storage.uri(key)} is gone")
            continue
        if actual is not None and actual != expected:
            problems.append(f"{storage.uri(key)} changed since it was landed on {publication.published_at} "
                            f"(SHA-256 now {actual}, recorded {expected})")
    return problems
