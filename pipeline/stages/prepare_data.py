"""PrepareData (Lambda): check the landed weeks (their files unchanged since landing, none missing, sizes
plausible) with one small Athena query, measure how the scores published a horizon ago did (another,
pipeline.results.realized_performance), then say what the training and scoring sets are: the SELECTs and folders
that the next state, PrepareSets, UNLOADs with Athena itself (Step Functions waits for those queries, no Lambda
does, so no 15-minute limit applies to them)."""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass

from pipeline.core.errors import DataQualityError
from pipeline.core.settings import Settings
from pipeline.execution.identity import Run
from pipeline.execution.week_lock import hold_week
from pipeline.execution.work import record_inputs
from pipeline.model.features import TRAINING_PART_COLUMN
from pipeline.model.holdout import HOLDOUT_SHARE
from pipeline.model.repeat_purchase.patterns import HISTORY_WEEKS
from pipeline.results.data_quality import Check, held, record_checks, warning
from pipeline.results.realized_performance import realize
from pipeline.warehouse import sql
from pipeline.warehouse.kept_features import FEATURE_LOOKBACK_WEEKS, FEATURE_PARTITION, features_sql, stale_weeks
from pipeline.warehouse.layout import (
    features_prefix,
    scoring_prefix,
    shard_count_for,
    shard_list_key,
    training_prefix,
)
from pipeline.warehouse.ports import Services
from pipeline.warehouse.publication import changed_files, recorded
from pipeline.warehouse.tables import table

logger = logging.getLogger(__name__)
WEEK = dt.timedelta(days=7)
TRAINING_SET_PARTITION = TRAINING_PART_COLUMN
SCORING_SET_PARTITION = "shard"
# Half an extract often keeps every customer but loses their activity: warn when the share of customers with a
# session falls by more than this (in points) from the week before.
ACTIVE_SHARE_DROP_WARNING = 0.2


@dataclass(frozen=True)
class Window:
    """The weeks a run reads: the run's week, the training window's labelled weeks (the newest
    `training_weeks` whose churn horizon is complete, the newest of them the validation week, whose holdout
    customers judge the model) and the weeks their features look back to."""
    run_date: dt.date
    churn_horizon_weeks: int
    training_weeks: int

    @property
    def validation_week(self) -> dt.date:
        return self.run_date - WEEK * self.churn_horizon_weeks

    @property
    def first_labelled_week(self) -> dt.date:
        return self.validation_week - WEEK * (self.training_weeks - 1)

    @property
    def first_week(self) -> dt.date:
        return self.first_labelled_week - WEEK * FEATURE_LOOKBACK_WEEKS

    @property
    def first_pattern_week(self) -> dt.date:
        """The oldest week the holdout's activity patterns count (pipeline.model.repeat_purchase)."""
        return self.validation_week - WEEK * (HISTORY_WEEKS - 1)

    def featured_weeks(self, landed: list[dt.date]) -> list[dt.date]:
        """The landed weeks whose feature rows the sets read (the labelled weeks and the run's), and those in
        between, which the next runs read."""
        return [week for week in landed if self.first_labelled_week <= week <= self.run_date]


def verify_landed_files(services: Services, window: Window) -> Check:
    """Refuse a landed file of the window that changed since it was landed (a flipped byte, an overwrite), before
    any SQL reads it: compared with the checksum its publication record took."""
    first, last = window.first_week.isoformat(), window.run_date.isoformat()
    problems, verified = [], 0
    for value, location in services.catalog.partitions(table("snapshots")).items():
        record = recorded(services.storage, "snapshots", value) if first <= value <= last else None
        if record and services.storage.uri(record.locations["snapshots"]) == location:
            problems += [f"week {value}: {problem}" for problem in changed_files(services.storage, record)]
            verified += len(record.checksums)
    if problems:
        raise DataQualityError("landed snapshots changed since they were landed; ingest those weeks again (no "
                               "data was read):\n  " + "\n  ".join(problems))
    return held("landed_files_changed", 0, "== 0",
                f"{verified} landed file(s) of the weeks read match the checksums taken when they landed")


def check_snapshot_weeks(services: Services, window: Window) -> tuple[list[dict], list[Check]]:
    """The landed weeks the run reads (date and customer counts), after checking they support an honest run, and
    what the checks measured."""
    run_date, churn_horizon_weeks = window.run_date, window.churn_horizon_weeks
    weeks = services.sql.query(sql.render("snapshot_weeks", first_week=window.first_week,
                                          run_date=run_date)).to_pylist()
    dates = [week["snapshot_date"] for week in weeks]
    if run_date not in dates:
        landed = ", ".join(d.isoformat() for d in dates[-5:]) or "none"
        raise DataQualityError(f"no snapshot landed for run_date {run_date} (newest landed weeks: {landed})")
    missing = [earlier + WEEK * step for earlier, later in zip(dates, dates[1:])
               for step in range(1, (later - earlier).days // 7)]
    odd = [later for earlier, later in zip(dates, dates[1:]) if (later - earlier).days % 7]
    if missing or odd:
        raise DataQualityError(
            "weekly snapshots must be 7 days apart; "
            + (f"missing weeks: {', '.join(map(str, missing))}" if missing else "")
            + (f" off-cycle weeks: {', '.join(map(str, odd))}" if odd else ""))
    checks = [held("missing_weeks", 0, "== 0", f"weeks {dates[0]} to {run_date} are each 7 days apart"),
              *_check_week_sizes(weeks, services.settings)]
    needed = churn_horizon_weeks + 1
    if len(dates) < needed:
        raise DataQualityError(
            f"{len(dates)} weekly snapshot(s) up to {run_date}; a run needs at least {needed}: the run's week and "
            f"a labelled week churn_horizon_weeks={churn_horizon_weeks} before it (its labels need those weeks)")
    return weeks, [held("snapshot_weeks_available", len(dates), f">= {needed}",
                        f"weekly snapshots from {dates[0]} to {run_date}"), *checks]


def _check_week_sizes(weeks: list[dict], settings: Settings) -> list[Check]:
    """Catch a truncated, duplicated or mixed-up extract before it turns into labels: a week that shrank would mark
    the missing customers as churned in every earlier week's labels; one that jumped scores customers who are not
    this product's."""
    for week in weeks:
        if week["customers"] != week["distinct_customers"]:
            duplicates = week["customers"] - week["distinct_customers"]
            raise DataQualityError(f"snapshot {week['snapshot_date']}: {duplicates} duplicate customer_id row(s)")
    checks = [held("duplicate_customer_rows", 0, "== 0", f"one row per customer in each of the {len(weeks)} weeks")]
    if len(weeks) >= 2:
        # The newest pair only: earlier weeks were checked when they were new, so one real launch or drop in the
        # history does not block every run after it.
        checks += [_check_growth(*weeks[-2:], settings), _active_share_change(*weeks[-2:])]
    return checks


def _active_share_change(earlier: dict, later: dict) -> Check:
    change = later["active_customers"] / later["customers"] - earlier["active_customers"] / earlier["customers"]
    return warning("active_share_change", change, f">= {-ACTIVE_SHARE_DROP_WARNING}",
                   change >= -ACTIVE_SHARE_DROP_WARNING,
                   f"share of customers with a session in {later['snapshot_date']} minus that in "
                   f"{earlier['snapshot_date']}; a large fall is often half an extract")


def _check_growth(earlier: dict, later: dict, settings: Settings) -> Check:
    ratio = later["customers"] / earlier["customers"]
    if ratio < settings.weekly_shrink_limit:
        raise DataQualityError(
            f"snapshot {later['snapshot_date']} has {later['customers']:,} customers, less than "
            f"{settings.weekly_shrink_limit:.0%} of the week before ({earlier['customers']:,}); is the extract "
            "truncated? Re-ingest the week (or set WEEKLY_SHRINK_LIMIT if the drop is real)")
    if ratio > settings.weekly_growth_limit:
        raise DataQualityError(
            f"snapshot {later['snapshot_date']} has {later['customers']:,} customers, more than "
            f"{settings.weekly_growth_limit:g} times the week before ({earlier['customers']:,}); is it another "
            "extract, or several weeks at once? Re-ingest the week (or set WEEKLY_GROWTH_LIMIT if the growth "
            "is real)")
    return held("customers_vs_previous_week", ratio,
                f"between {settings.weekly_shrink_limit:g} and {settings.weekly_growth_limit:g}",
                f"{later['customers']:,} customers in {later['snapshot_date']}, {earlier['customers']:,} the week "
                "before")


def training_set_sql(window: Window, settings: Settings) -> str:
    return sql.render(
        "training_set", first_week=window.first_week, run_date=window.run_date,
        churn_horizon_weeks=window.churn_horizon_weeks, first_labelled_week=window.first_labelled_week,
        validation_week=window.validation_week, first_pattern_week=window.first_pattern_week,
        older_weeks_rate=settings.older_weeks_sample_rate,
        retained_rate=settings.retained_sample_rate, holdout_share=HOLDOUT_SHARE)


def scoring_set_sql(run_date: dt.date, shard_count: int) -> str:
    return sql.render("scoring_set", run_date=run_date, shard_count=shard_count)


def features_to_compute(services: Services, run: Run, window: Window, weeks: list[dict]) -> dict:
    """The weeks whose kept feature rows are missing or stale (UnloadFeatures computes them, KeepFeatures keeps
    them; none, and both are skipped), with what each is made from."""
    stale = stale_weeks(services, window.featured_weeks([week["snapshot_date"] for week in weeks]))
    unload = (sql.unload_set(features_sql(list(stale)), services.storage.uri(features_prefix(run)),
                             FEATURE_PARTITION) if stale else None)
    return {"week_count": len(stale), "weeks": stale, "unload": unload}


def prepare_data(services: Services, run: Run) -> dict:
    hold_week(services, run)
    run_date, settings = run.run_date, services.settings
    window = Window(run_date, run.churn_horizon_weeks, settings.training_weeks)
    files_check = verify_landed_files(services, window)
    weeks, week_checks = check_snapshot_weeks(services, window)
    record_checks(services, run, "PrepareData", [files_check, *week_checks])
    realized = realize(services, run)
    customers = weeks[-1]["customers"]  # distinct (checked): the scoring set has one row for each
    shard_count = shard_count_for(customers, settings.rows_per_shard)
    storage = services.storage
    record_inputs(services, run, window.first_week)
    features = features_to_compute(services, run, window, weeks)
    shards = list(range(shard_count))
    storage.write_bytes(shard_list_key(run), json.dumps(shards).encode())
    logger.info("%d weeks checked; %d week(s) of features to compute; %d customers to score in %d shard(s)",
                len(weeks), features["week_count"], customers, shard_count)
    return {
        "weeks_available": len(weeks),
        "snapshot_rows": sum(week["customers"] for week in weeks),
        "scoring_rows": customers,
        "shard_count": shard_count,
        "shards": shards,
        "shard_list_key": shard_list_key(run),
        "realized_auc": realized["auc"] if realized else None,
        "features": features,
        "training_set": sql.unload_set(training_set_sql(window, settings), storage.uri(training_prefix(run)),
                                       TRAINING_SET_PARTITION),
        "scoring_set": sql.unload_set(scoring_set_sql(run_date, shard_count), storage.uri(scoring_prefix(run)),
                                      SCORING_SET_PARTITION),
    }
