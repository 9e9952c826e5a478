"""Cleanup (Lambda, first state, once its handler has resolved the run with `pipeline.execution.identity`): take
the week's lock, then remove the week's temporary outputs and the result folders no partition points at
(earlier executions that failed or were replaced), but for what a failed execution that can still be resumed
needs (pipeline.execution.work). Under the lock no other run of the week can publish while
this reads the catalog; what a publication record names is kept even where the catalog has not caught up with
it (and is caught up).

Retention: the same leftovers of weeks older than RETENTION_WEEKS that no run holds, and the model versions of
those weeks that no published result was scored with and no resumable failed execution goes on with, go too.
(Retired landings are removed by the next ingest: this function may not delete landed snapshots.)
"""
from __future__ import annotations

import datetime as dt
import logging
import re

from pipeline.core.errors import CatalogLostError
from pipeline.execution.identity import Run, model_version_for
from pipeline.execution.week_lock import hold_week, is_held
from pipeline.execution.work import now_utc, works_of_week
from pipeline.model import champion
from pipeline.warehouse.layout import (
    RUN_DATE_FOLDER,
    WORK_PREFIX,
    attempt_prefix,
    can_retire,
    execution_of_folder,
    model_prefix,
)
from pipeline.warehouse.ports import Services
from pipeline.warehouse.publication import GROUPS, REPAIR_COMMAND, published_locations, reconcile, recorded
from pipeline.warehouse.tables import table

logger = logging.getLogger(__name__)

RESULT_TABLES = GROUPS["results"]
MODEL_FOLDER = re.compile(r"models/model_version=((\d{8})-[^/]+)/")


def cleanup(services: Services, run: Run) -> int:
    """Take the week for this execution, then clean it and retire what is past retention; return how many files
    went."""
    hold_week(services, run)
    _refuse_a_lost_catalog(services)
    finished = reconcile(services, recorded(services.storage, "results", run.run_date.isoformat()))
    if finished:
        logger.warning("finished the publication of run_date %s that the catalog had not caught up with: %s",
                       run.run_date, ", ".join(finished))
    return clean_week(services, run.run_date) + retire_old_outputs(services, run)


def _refuse_a_lost_catalog(services: Services) -> None:
    """With no catalog, every published folder would look unpublished, and be deleted."""
    snapshots = table("snapshots")
    if not services.catalog.partitions(snapshots) and services.storage.exists(snapshots.location):
        raise CatalogLostError(
            f"the catalog lists no partition of {snapshots.qualified_name}, yet "
            f"{services.storage.uri(snapshots.location)} holds its data: the catalog was lost or replaced. "
            f"Nothing was deleted. Rebuild it from the publication records: {REPAIR_COMMAND}")


def retire_old_outputs(services: Services, run: Run) -> int:
    """Only weeks with a published result are retired: if their partitions were lost, nothing is taken for
    unpublished (a week that was never published, or whose partition vanished, keeps its folders)."""
    oldest_kept = run.run_date - dt.timedelta(weeks=services.settings.retention_weeks)
    published = published_locations(services, "results")  # read once

    def retirable(week: dt.date) -> bool:
        return (week < oldest_kept and week.isoformat() in published["predictions"]
                and not is_held(services.storage, week))  # a backfill of it may be running

    old_weeks = [week for week in _weeks_with_outputs(services) if retirable(week)]
    removed = sum(clean_week(services, week, published) for week in old_weeks)
    # Kept: what a published week was scored with, and what a resume or redrive of a failed execution goes on with
    scored_with = _published_model_versions(published["predictions"]) | _resumable_model_versions(services, old_weeks)
    if (current_champion := champion.current(services.storage)[0]) is not None:
        scored_with.add(current_champion.model_version)  # it scores the weeks whose own model lost to it
    for version, week in _model_versions(services):
        if retirable(week) and version not in scored_with:
            removed += services.storage.delete_prefix(model_prefix(version))
    logger.info("retention (%d weeks): %d file(s) of weeks before %s removed", services.settings.retention_weeks,
                removed, oldest_kept)
    return removed


def _weeks_with_outputs(services: Services) -> set[dt.date]:
    prefixes = [WORK_PREFIX, *(table(name).location for name in RESULT_TABLES)]
    return {dt.date.fromisoformat(match.group(1)) for prefix in prefixes
            for key in services.storage.list_keys(prefix) if (match := RUN_DATE_FOLDER.search(key))}


def _model_versions(services: Services) -> list[tuple[str, dt.date]]:
    """Every stored model version with the week it was trained for (the date its name begins with)."""
    found = {match.groups() for key in services.storage.list_keys("models/") if (match := MODEL_FOLDER.match(key))}
    return sorted((version, dt.datetime.strptime(day, "%Y%m%d").date()) for version, day in found)


def _published_model_versions(predictions: dict[str, str]) -> set[str]:
    """The model version each published week was scored with: its execution's (see pipeline.execution.identity)."""
    return {model_version_for(dt.date.fromisoformat(value), execution) for value, location in predictions.items()
            if (execution := execution_of_folder(location))}


def _resumable_model_versions(services: Services, weeks: list[dt.date]) -> set[str]:
    """The model version of each failed execution of these weeks that can still be resumed (a redrive reuses it)."""
    now = now_utc()
    return {model_version_for(week, work.execution_name) for week in weeks
            for work in works_of_week(services.storage, week) if work.resumable(now)}


def clean_week(services: Services, run_date: dt.date, published: dict[str, dict[str, str]] | None = None) -> int:
    """Remove the week's stale outputs (given `published`, each result table's partitions, or reading them);
    return how many files went. What a failed execution that can still be resumed needs is kept."""
    published = published or published_locations(services, "results")
    now, removed = now_utc(), 0
    resumable = set()
    for work in works_of_week(services.storage, run_date):
        if work.resumable(now):
            resumable.add(work.execution_name)
        else:
            removed += services.storage.delete_prefix(work.folder)
    for table_name in RESULT_TABLES:
        removed += _remove_unpublished_attempts(services, table_name, run_date,
                                                published[table_name].get(run_date.isoformat()), resumable)
    logger.info("removed %d stale file(s) of run_date %s%s", removed, run_date,
                f"; kept the work of {len(resumable)} execution(s) that can be resumed" if resumable else "")
    return removed


def _remove_unpublished_attempts(services: Services, table_name: str, run_date: dt.date,
                                 published: str | None, resumable: set[str]) -> int:
    partition_prefix = table(table_name).partition_prefix(run_date.isoformat())
    published_key = services.storage.key_of(published) if published else None
    kept = {attempt_prefix(table_name, run_date, name) for name in resumable}
    folders = {key[:key.index("/", len(partition_prefix)) + 1]
               for key in services.storage.list_keys(partition_prefix) if "/" in key[len(partition_prefix):]}
    stale = [folder for folder in folders - kept if can_retire(folder, published_key)]
    return sum(services.storage.delete_prefix(folder) for folder in stale)
