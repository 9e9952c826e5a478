"""Kept feature rows: each landed week's model inputs (athena_sql/features.sql) are computed once, by the first run
that needs them, and kept as that week's partition of engagement.features; the training and scoring sets read
them. A run computes only the weeks whose kept rows are missing or stale, so its work does not grow with the
weeks it reads.

A week's rows are stale when what they were made from changed: the feature definitions (their version, a digest of
the SQL and of the table's columns) or the landing of the week or of one of the FEATURE_LOOKBACK_WEEKS weeks
its features read (a re-ingest, a backfill, a removed week). Each kept week has a publication record (group
"features") naming its folder and those sources; a week whose record, catalog partition or files disagree is
computed again.

The weeks are computed by one UNLOAD into the execution's work folder (UnloadFeatures), then each week's files are
copied into a folder of their own, `features/snapshot_date=W/execution=E/` (KeepFeatures: a server-side copy on
S3, a hard link on a local disk), so a week is published, retired and repaired as any other partition.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict
from functools import cache

from pipeline.core.errors import PipelineError
from pipeline.warehouse import sql
from pipeline.warehouse.layout import attempt_prefix, can_retire
from pipeline.warehouse.objects import data_keys, write_json
from pipeline.warehouse.ports import Services
from pipeline.warehouse.publication import Publication, recorded_between, withdraw
from pipeline.warehouse.retirement import retire
from pipeline.warehouse.tables import table

WEEK = dt.timedelta(days=7)
FEATURE_LOOKBACK_WEEKS = 3  # athena_sql/customer_weeks.sql reads a customer's rows up to three weeks back
FEATURES = "features"
FEATURE_PARTITION = "snapshot_date"
VERSION_SOURCE = "feature_version"
DEFINITIONS = ("customer_weeks", "features")  # the SQL files whose text defines the kept rows

Sources = dict[str, str]  # "feature_version" -> version; each snapshot week read -> its landing's folder


class FeaturesNotKeptError(PipelineError):
    """The features UNLOAD left no rows for a landed week it was asked to compute."""


@cache
def feature_version() -> str:
    """A digest of what defines the kept rows: any edit of their SQL or columns makes every kept week stale."""
    digest = hashlib.sha256()
    for name in DEFINITIONS:
        digest.update((sql.SQL_DIR / f"{name}.sql").read_bytes())
    digest.update(json.dumps(table(FEATURES).columns).encode())
    return digest.hexdigest()[:16]


def _snapshot_folders(services: Services) -> dict[str, str]:
    """Each landed week's folder: a key where it lies in the warehouse (a copied data directory stays valid)."""
    folders = {}
    for value, location in services.catalog.partitions(table("snapshots")).items():
        try:
            folders[value] = services.storage.key_of(location)
        except ValueError:
            folders[value] = location  # registered by hand outside the warehouse
    return folders


def sources_of(week: dt.date, snapshot_folders: dict[str, str]) -> Sources:
    """What the week's features are made from: the definitions and the landed weeks they read."""
    read = [(week - WEEK * back).isoformat() for back in range(FEATURE_LOOKBACK_WEEKS, -1, -1)]
    return {VERSION_SOURCE: feature_version(), **{value: snapshot_folders[value] for value in read
                                                  if value in snapshot_folders}}


def stale_weeks(services: Services, weeks: list[dt.date]) -> dict[str, Sources]:
    """Of the landed `weeks`, those whose kept rows are missing or stale (week -> what to compute them from)."""
    if not weeks:
        return {}
    snapshot_folders = _snapshot_folders(services)
    kept = services.catalog.partitions(table(FEATURES))
    records = {record.value: record for record in
               recorded_between(services.storage, FEATURES, min(weeks).isoformat(), max(weeks).isoformat())}
    stale = {}
    for week in weeks:
        value, sources = week.isoformat(), sources_of(week, snapshot_folders)
        record = records.get(value)
        fresh = (record is not None and record.sources == sources
                 and kept.get(value) == services.storage.uri(record.locations[FEATURES])
                 and bool(data_keys(services.storage, record.locations[FEATURES])))
        if not fresh:
            stale[value] = sources
    return stale


def features_sql(weeks: list[str]) -> str:
    """The SELECT that computes the kept rows of `weeks` (ISO dates): every landed week from the first to the last,
    which UNLOAD partitions by week."""
    first, last = dt.date.fromisoformat(min(weeks)), dt.date.fromisoformat(max(weeks))
    return sql.render("features", first_week=first - WEEK * FEATURE_LOOKBACK_WEEKS, first_feature_week=first,
                      run_date=last, feature_version=feature_version())


def keep(services: Services, unloaded: str, execution_name: str, weeks: dict[str, Sources]) -> dict[str, str]:
    """Keep the weeks the UNLOAD wrote under `unloaded` (a folder key, one `snapshot_date=W/` folder a week): copy
    each into its own folder, record it, then point the catalog at them all at once, and retire the folders they
    replace. Return week -> folder."""
    storage, features = services.storage, table(FEATURES)
    folders = {value: attempt_prefix(FEATURES, dt.date.fromisoformat(value), execution_name) for value in weeks}
    for value, folder in sorted(folders.items()):
        files = data_keys(storage, f"{unloaded}{FEATURE_PARTITION}={value}/")
        if not files:
            raise FeaturesNotKeptError(f"the features UNLOAD wrote no rows for landed week {value} under "
                                       f"{storage.uri(unloaded)}: nothing was kept; run the week again")
        storage.delete_prefix(folder)  # a retried KeepFeatures starts the week's folder again
        for key in files:
            storage.copy(key, f"{folder}{key.rsplit('/', 1)[-1]}")
    replaced = services.catalog.partitions(features)
    for value, folder in folders.items():  # the records first: the commit points the catalog follows
        record = Publication(FEATURES, value, {FEATURES: folder}, execution_name, sources=weeks[value])
        write_json(storage, record.key, asdict(record))
    services.catalog.register_partitions(features, {value: storage.uri(folder) for value, folder in folders.items()})
    for value, location in replaced.items():
        if value in folders:
            _retire(services, location, folders[value], value, f"recomputed by execution {execution_name}")
    return folders


def _retire(services: Services, location: str, kept: str | None, value: str, reason: str) -> None:
    try:
        old = services.storage.key_of(location)
    except ValueError:
        return  # registered by hand outside the warehouse: never ours to delete
    if can_retire(old, kept):
        retire(services.storage, old, FEATURES, value, reason)


def forget_week(services: Services, week: dt.date) -> None:
    """A week that is no longer landed keeps no features: its record goes, then its partition; its folder is
    retired (readers on it finish)."""
    value = week.isoformat()
    location = services.catalog.partitions(table(FEATURES)).get(value)
    withdraw(services.storage, FEATURES, value)
    if location is not None:
        services.catalog.drop_partition(table(FEATURES), value)
        _retire(services, location, None, value, "its snapshot week was removed")
