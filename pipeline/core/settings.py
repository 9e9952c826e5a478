"""Settings of a Lambda function or Fargate task, read once at the door from its environment.

PIPELINE_BUCKET           S3 bucket holding data, models and results (on AWS)
ATHENA_WORKGROUP          Athena workgroup (default: primary)
CHURN_HORIZON_WEEKS       weeks without activity that define churn (default 4)
INFERENCE_ROWS_PER_SHARD  customers per inference shard (default 250000; memory is flat in it, each task
                          costs a start-up)
WEEK_LOCK_STALE_HOURS     a week's lock older than this belongs to a dead run (default 24; longer than any run)
WEEKLY_SHRINK_LIMIT       a week with fewer customers than this share of the week before is refused (default 0.5)
WEEKLY_GROWTH_LIMIT       a week with more customers than this multiple of the week before is refused (default 2)
RETENTION_WEEKS           replaced results, work files and unused models older than this are removed (default 8)
RETIRED_FILES_DAYS        days a replaced or removed landing is kept for the readers still on it (default 7)
TRAINING_WEEKS            labelled weeks the model is trained on, the newest ones (default 8)
OLDER_WEEKS_SAMPLE_RATE   share of rows kept in the window's weeks before the validation week (default 1)
RETAINED_SAMPLE_RATE      of those, share of retained customers kept (default 0.5); kept rows are weighted by
                          1 / their chance of being kept, so probabilities stay calibrated
MAX_TRAINING_ROWS         fitted rows Training keeps at most, sampled by class and weighted back (default 5000000)
QUERY_TIMEOUT_SECONDS     a local query (DuckDB: `query`, `--explain` and the runs' UNLOADs) is stopped after this
                          (default 300; on AWS the Athena workgroup's own limit applies)
SERVING_TABLE             the DynamoDB table the API serves the published scores from (on AWS)
SERVING_DAYS              days a week's scores stay in the serving store once loaded (default 35: the four weeks
                          before the newest answer ?run_date=, then they expire)
WHAT_IF_CACHE_SECONDS     seconds the API keeps a what-if answer for the same row and model (default 3600)
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]  # holds athena_sql/ and glue/, in the images too
DATABASE = "engagement"
DEFAULT_CHURN_HORIZON_WEEKS = 4
DEFAULT_ROWS_PER_SHARD = 250_000
DEFAULT_WEEK_LOCK_STALE_HOURS = 24
# A truncated extract would mark the missing customers as churned; a duplicated or mixed-up one scores strangers.
DEFAULT_WEEKLY_SHRINK_LIMIT = 0.5
DEFAULT_WEEKLY_GROWTH_LIMIT = 2.0
DEFAULT_RETENTION_WEEKS = 8
DEFAULT_RETIRED_FILES_DAYS = 7  # longer than any query or run lasts, so none still reads what goes
DEFAULT_TRAINING_WEEKS = 8
DEFAULT_OLDER_WEEKS_SAMPLE_RATE = 1.0
DEFAULT_RETAINED_SAMPLE_RATE = 0.5  # measured: 36% fewer training rows for -0.0001 AUC (docs/input-contract.md)
# A new model replaces the champion unless its validation AUC is lower than the champion's on the same week by
# more than this: week-to-week noise of the AUC on 100,000 customers is a few thousandths.
DEFAULT_CHAMPION_AUC_TOLERANCE = 0.005
# Training rows beyond this are sampled away, by class (pipeline.model.row_cap), so Training's time and memory
# (about 200 bytes a kept row at the peak) stop growing with the customers. Measured at 1M customers (4.6M fitted
# rows), holdout AUC against the cap: 0.5M -0.0005, 1M -0.0002, 2M and 3M as uncapped (docs/benchmark.md); the
# default is 2.5 times the 2M that reached it, and leaves every panel of up to 1M customers uncapped.
DEFAULT_MAX_TRAINING_ROWS = 5_000_000
# Longer than a local UNLOAD of a 1,000,000-customer panel takes (its whole run: 163 s, docs/benchmark.md), short
# enough that a query that never ends (a runaway WITH RECURSIVE) is stopped rather than left holding a core.
DEFAULT_QUERY_TIMEOUT_SECONDS = 300
DEFAULT_SERVING_DAYS = 35
DEFAULT_WHAT_IF_CACHE_SECONDS = 3_600


@dataclass(frozen=True)
class Settings:
    bucket: str | None = None
    athena_workgroup: str = "primary"
    churn_horizon_weeks: int = DEFAULT_CHURN_HORIZON_WEEKS
    rows_per_shard: int = DEFAULT_ROWS_PER_SHARD
    week_lock_stale_hours: int = DEFAULT_WEEK_LOCK_STALE_HOURS
    weekly_shrink_limit: float = DEFAULT_WEEKLY_SHRINK_LIMIT
    weekly_growth_limit: float = DEFAULT_WEEKLY_GROWTH_LIMIT
    retention_weeks: int = DEFAULT_RETENTION_WEEKS
    retired_files_days: int = DEFAULT_RETIRED_FILES_DAYS
    training_weeks: int = DEFAULT_TRAINING_WEEKS
    older_weeks_sample_rate: float = DEFAULT_OLDER_WEEKS_SAMPLE_RATE
    retained_sample_rate: float = DEFAULT_RETAINED_SAMPLE_RATE
    champion_auc_tolerance: float = DEFAULT_CHAMPION_AUC_TOLERANCE
    max_training_rows: int = DEFAULT_MAX_TRAINING_ROWS
    query_timeout_seconds: int = DEFAULT_QUERY_TIMEOUT_SECONDS
    serving_table: str | None = None
    serving_days: int = DEFAULT_SERVING_DAYS
    what_if_cache_seconds: int = DEFAULT_WHAT_IF_CACHE_SECONDS


def positive_int(value: object) -> int | None:
    """`value` as a whole number >= 1 (from text, JSON or an int), or None if it is not one."""
    if isinstance(value, bool) or not str(value).isdigit() or int(value) < 1:
        return None
    return int(value)


def _positive_setting(env: dict[str, str], name: str, default: int) -> int:
    value = env.get(name, str(default))
    if positive_int(value) is None:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


RATIO_BOUNDS = {  # what each kind of ratio setting may be, and how an error says it
    "above one": (lambda ratio: ratio > 1, "a number above 1"),
    "below one": (lambda ratio: 0 < ratio < 1, "a number between 0 and 1"),
    "share": (lambda ratio: 0 < ratio <= 1, "a number above 0 and at most 1"),
    "margin": (lambda ratio: 0 <= ratio < 1, "a number from 0 up to (not including) 1"),
}


def _ratio_setting(env: dict[str, str], name: str, default: float, *, bounds: str) -> float:
    value = env.get(name, str(default))
    try:
        ratio = float(value)
    except ValueError:
        ratio = float("nan")
    within, description = RATIO_BOUNDS[bounds]
    if not within(ratio):
        raise ConfigError(f"{name} must be {description}, got {value!r}")
    return ratio


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    return Settings(
        bucket=env.get("PIPELINE_BUCKET") or None,
        athena_workgroup=env.get("ATHENA_WORKGROUP", "primary"),
        churn_horizon_weeks=_positive_setting(env, "CHURN_HORIZON_WEEKS", DEFAULT_CHURN_HORIZON_WEEKS),
        rows_per_shard=_positive_setting(env, "INFERENCE_ROWS_PER_SHARD", DEFAULT_ROWS_PER_SHARD),
        week_lock_stale_hours=_positive_setting(env, "WEEK_LOCK_STALE_HOURS", DEFAULT_WEEK_LOCK_STALE_HOURS),
        weekly_shrink_limit=_ratio_setting(env, "WEEKLY_SHRINK_LIMIT", DEFAULT_WEEKLY_SHRINK_LIMIT, bounds="below one"),
        weekly_growth_limit=_ratio_setting(env, "WEEKLY_GROWTH_LIMIT", DEFAULT_WEEKLY_GROWTH_LIMIT, bounds="above one"),
        retention_weeks=_positive_setting(env, "RETENTION_WEEKS", DEFAULT_RETENTION_WEEKS),
        retired_files_days=_positive_setting(env, "RETIRED_FILES_DAYS", DEFAULT_RETIRED_FILES_DAYS),
        training_weeks=_positive_setting(env, "TRAINING_WEEKS", DEFAULT_TRAINING_WEEKS),
        older_weeks_sample_rate=_ratio_setting(env, "OLDER_WEEKS_SAMPLE_RATE", DEFAULT_OLDER_WEEKS_SAMPLE_RATE,
                                               bounds="share"),
        retained_sample_rate=_ratio_setting(env, "RETAINED_SAMPLE_RATE", DEFAULT_RETAINED_SAMPLE_RATE,
                                            bounds="share"),
        champion_auc_tolerance=_ratio_setting(env, "CHAMPION_AUC_TOLERANCE", DEFAULT_CHAMPION_AUC_TOLERANCE,
                                              bounds="margin"),
        max_training_rows=_positive_setting(env, "MAX_TRAINING_ROWS", DEFAULT_MAX_TRAINING_ROWS),
        query_timeout_seconds=_positive_setting(env, "QUERY_TIMEOUT_SECONDS", DEFAULT_QUERY_TIMEOUT_SECONDS),
        serving_table=env.get("SERVING_TABLE") or None,
        serving_days=_positive_setting(env, "SERVING_DAYS", DEFAULT_SERVING_DAYS),
        what_if_cache_seconds=_positive_setting(env, "WHAT_IF_CACHE_SECONDS", DEFAULT_WHAT_IF_CACHE_SECONDS),
    )
