"""Where everything lives under the warehouse root (a local folder or the S3 bucket), in one place.

Folders the pipeline creates itself and may later delete are "managed": a snapshot landing (`landed-…/`) or
one execution's results (`execution=…/`). Nothing else is ever deleted, so a partition a user registered by
hand (pointing at the partition folder itself) is safe.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from typing import Protocol

from pipeline.warehouse.tables import table

LANDED_FOLDER = "landed-"
EXECUTION_FOLDER = "execution="
ATTEMPT_FOLDER = "attempt="  # one per attempt of an execution's PrepareSets: see pipeline.warehouse.sql.UNLOAD_TEMPLATE
WORK_PREFIX = "work/"
RUNS_PREFIX = "runs/"
FAILURES_PREFIX = f"{RUNS_PREFIX}failures/"
LOCKS_PREFIX = "locks/"
RUN_DATE_FOLDER = re.compile(r"run_date=(\d{4}-\d{2}-\d{2})/")
MAX_SHARDS = 100  # Athena's UNLOAD writes at most 100 partitions per query


class OfExecution(Protocol):
    """What names an execution's work: its week and its name (a `Run`)."""
    run_date: dt.date
    execution_name: str


def week_work_prefix(run_date: dt.date) -> str:
    """The work folders of every execution of one week."""
    return f"{WORK_PREFIX}run_date={run_date.isoformat()}/"


def work_prefix(run: OfExecution) -> str:
    """Temporary outputs of one execution, which its later states and a resume or redrive of it read. Publish
    removes them; Cleanup and `doctor --repair` do once the execution can no longer be resumed
    (pipeline.execution.work)."""
    return f"{week_work_prefix(run.run_date)}{EXECUTION_FOLDER}{run.execution_name}/"


def work_inputs_key(run: OfExecution) -> str:
    """What the execution's work was made from (see pipeline.execution.work)."""
    return f"{work_prefix(run)}inputs.json"


def training_prefix(run: OfExecution) -> str:
    return f"{work_prefix(run)}training/"


def scoring_prefix(run: OfExecution) -> str:
    return f"{work_prefix(run)}scoring/"


def features_prefix(run: OfExecution) -> str:
    """Where UnloadFeatures writes the weeks' feature rows before KeepFeatures keeps them (kept_features)."""
    return f"{work_prefix(run)}features/"


def shard_prefix(scoring_set: str, shard: int) -> str:
    """One shard's folder in a scoring set (an attempt folder under scoring_prefix)."""
    return f"{scoring_set}shard={shard}/"


def shard_count_for(rows: int, rows_per_shard: int) -> int:
    """How many shards a scoring set of `rows` customers is split into."""
    return max(1, min(MAX_SHARDS, math.ceil(rows / rows_per_shard)))


def shard_list_key(run: OfExecution) -> str:
    """The week's shard numbers as a JSON array: the items the Inference Map reads (its ItemReader)."""
    return f"{work_prefix(run)}shards.json"


def segment_totals_key(run: OfExecution, shard: int) -> str:
    """One Inference shard's segment totals, which Publish adds up into weekly_summary."""
    return f"{work_prefix(run)}shard_totals/segments-{shard:05d}.json"


def drift_counts_key(run: OfExecution, shard: int) -> str:
    """One Inference shard's rows per feature bin, which Publish adds up into each feature's PSI."""
    return f"{work_prefix(run)}shard_totals/drift-{shard:05d}.json"


def report_key(run_date: dt.date, execution_name: str) -> str:
    """The run report, one self-contained HTML file per published execution (see pipeline.results.report)."""
    return f"reports/run_date={run_date.isoformat()}/{execution_name}.html"


def champion_key() -> str:
    """Which model version inference uses unless a run's own model beats it (see pipeline.model.champion)."""
    return "models/champion.json"


def model_prefix(model_version: str) -> str:
    return f"models/model_version={model_version}/"


def attempt_prefix(table_name: str, run_date: dt.date, execution_name: str) -> str:
    """Each execution writes its own folder; Publish points the catalog partition at it."""
    return f"{table(table_name).partition_prefix(run_date.isoformat())}{EXECUTION_FOLDER}{execution_name}/"


def landing_prefix(snapshot_date: dt.date, landing_id: str) -> str:
    return f"{table('snapshots').partition_prefix(snapshot_date.isoformat())}{LANDED_FOLDER}{landing_id}/"


def reference_scores_key(snapshot_date: dt.date) -> str:
    """Known churn probabilities for a week, if anyone has them (never a feature, never cataloged)."""
    return f"reference/scores/snapshot_date={snapshot_date.isoformat()}/part-0.parquet"


def run_record_key(execution_name: str) -> str:
    """The record of one execution as its launcher saw it (status, durations, error)."""
    return f"{RUNS_PREFIX}{execution_name}.json"


def failure_record_key(execution_name: str) -> str:
    """RecordFailure's record of why an execution failed (on AWS too)."""
    return f"{FAILURES_PREFIX}{execution_name}.json"


def week_lock_key(run_date: dt.date) -> str:
    """Held by the one execution running this week, from Cleanup to Publish or RecordFailure."""
    return f"{LOCKS_PREFIX}run_date={run_date.isoformat()}.json"


def execution_of_folder(key: str) -> str | None:
    """The execution whose folder this is (its last part `execution=NAME`), or None for any other folder."""
    name = key.rstrip("/").rsplit("/", 1)[-1]
    return name.removeprefix(EXECUTION_FOLDER) if name.startswith(EXECUTION_FOLDER) else None


def is_managed_folder(key: str) -> bool:
    """A folder the pipeline created (a landing or an execution's results), as opposed to one a user registered."""
    name = key.rstrip("/").rsplit("/", 1)[-1]
    return key.endswith("/") and name.startswith((LANDED_FOLDER, EXECUTION_FOLDER))


def can_retire(old_key: str, kept_key: str | None) -> bool:
    """May this folder be deleted while the partition points at `kept_key`? Only if the pipeline created it
    and it neither holds nor lies inside the kept folder."""
    overlapping = kept_key is not None and (old_key.startswith(kept_key) or kept_key.startswith(old_key))
    return is_managed_folder(old_key) and not overlapping
