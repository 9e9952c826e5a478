"""Land a validated weekly snapshot: write it to a fresh folder, then point the catalog partition at it.

Re-landing a week replaces it; a reader sees the old week or the new one, never a mix.
"""
from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pyarrow as pa

from pipeline.errors import PipelineError
from pipeline.layout import SYNTHETIC_MARKER, TRUTH_PREFIX, can_retire, is_managed_folder, landing_prefix, truth_key
from pipeline.services import Services
from pipeline.storage import read_json, write_json, write_parquet
from pipeline.tables import table
from pipeline.validate import read_snapshot_file, validate_snapshot


def land_snapshot(services: Services, snapshot: pa.Table, snapshot_date: dt.date) -> str:
    """Write a conformed snapshot and publish it as the week's partition; return its location."""
    snapshots = table("snapshots")
    value = snapshot_date.isoformat()
    folder = landing_prefix(snapshot_date, uuid.uuid4().hex[:12])
    write_parquet(services.storage, f"{folder}part-0.parquet", snapshot)
    previous = services.catalog.partitions(snapshots).get(value)
    services.catalog.put_partition(snapshots, value, services.storage.uri(folder))
    if previous and can_retire(services.storage.key_of(previous), folder):
        services.storage.delete_prefix(services.storage.key_of(previous))
    return services.storage.uri(folder)


def ingest_file(services: Services, path: Path, snapshot_date: dt.date) -> tuple[int, str, list[str]]:
    """Validate a user's weekly CSV/Parquet against the contract and land it; return (rows, location, notes)."""
    snapshot, notes = validate_snapshot(read_snapshot_file(path), str(path))
    location = land_snapshot(services, snapshot, snapshot_date)
    # A real week replaces a synthetic one: its synthetic truth no longer describes the data.
    services.storage.delete_prefix(truth_key(snapshot_date))
    return snapshot.num_rows, location, notes


def land_synthetic_panel(services: Services, customers: int, weeks: int, seed: int, *, if_missing: bool,
                         force: bool = False, progress=None) -> str:
    """Generate a seeded panel and land it through the same validation as `ingest`; return what happened.

    With if_missing, an already-landed panel of the same size is kept. Weeks a user ingested are never
    replaced without `force`.
    """
    from pipeline.synthetic import generate_panel

    wanted = {"customers": customers, "weeks": weeks, "seed": seed,
              "churn_horizon_weeks": services.settings.churn_horizon_weeks}
    existing = services.catalog.partitions(table("snapshots"))
    ingested = [week for week in existing if not services.storage.exists(truth_key(dt.date.fromisoformat(week)))]
    if ingested and not force:
        if if_missing:
            return f"kept {len(existing)} landed week(s); not generating synthetic data over your own"
        raise PipelineError(f"{len(ingested)} ingested week(s) ({ingested[0]} … {ingested[-1]}) would be deleted; "
                            "pass --force to replace them with synthetic data")
    if if_missing and existing and services.storage.exists(SYNTHETIC_MARKER) \
            and read_json(services.storage, SYNTHETIC_MARKER) == wanted:
        return f"kept the synthetic panel already landed ({customers:,} customers x {weeks} weeks)"
    _drop_all_snapshots(services, existing)
    for snapshot in generate_panel(customers, weeks, seed,
                                   churn_horizon_weeks=services.settings.churn_horizon_weeks):
        landed, _ = validate_snapshot(snapshot.customers, f"synthetic week {snapshot.snapshot_date}")
        land_snapshot(services, landed, snapshot.snapshot_date)
        # The true probability depends on the horizon: keep it with the values so a run with another
        # horizon reports no Bayes AUC rather than a wrong one.
        truth = snapshot.truth.assign(churn_horizon_weeks=services.settings.churn_horizon_weeks)
        write_parquet(services.storage, truth_key(snapshot.snapshot_date),
                      pa.Table.from_pandas(truth, preserve_index=False))
        if progress:
            progress(snapshot.snapshot_date)
    write_json(services.storage, SYNTHETIC_MARKER, wanted)
    return f"generated {customers:,} customers x {weeks} weeks (seed {seed})"


def _drop_all_snapshots(services: Services, existing: dict[str, str]) -> None:
    snapshots = table("snapshots")
    for value, location in existing.items():
        services.catalog.drop_partition(snapshots, value)
        if is_managed_folder(services.storage.key_of(location)):
            services.storage.delete_prefix(services.storage.key_of(location))
    services.storage.delete_prefix(TRUTH_PREFIX)
    services.storage.delete_prefix(SYNTHETIC_MARKER)
