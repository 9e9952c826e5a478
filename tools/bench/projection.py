"""10 and 50 million customers on paper: a linear projection of what one bench run measured, not a measurement.

Time: PrepareData scales with the snapshot rows, Training with the training rows it keeps (at most
MAX_TRAINING_ROWS: pipeline/model/row_cap.py samples the rest away as it reads, so the fit and its memory stop
growing there), an inference shard with its rows; Cleanup, KeepFeatures and Publish stay as measured (they list,
count, copy and delete files and swap catalog entries: their work follows the number of files and partitions, not
of rows; KeepFeatures' copies are server-side on S3). Past the cap this understates Training's time: the dropped
rows are still read and decoded, twice (about 1.3 us a row a pass on this machine at 100,000 customers, so some 2
minutes for the 41M rows dropped at 10M customers).
A task process is projected as a fixed part plus a part per row:

    projected = idle + (measured - idle) x projected rows / measured rows

for its seconds and for its peak memory, where `idle` is a process that only imports the task's libraries
(measured in the same bench run): interpreter and library start-up do not grow with the data. Inference is split
as PrepareData splits it (INFERENCE_ROWS_PER_SHARD rows per shard, at most 100 shards), MaxConcurrency shards at a
time. A task's size is the smallest valid Fargate memory holding its projected peak x HEADROOM.
A shard also loads its customers into the serving table, which takes ServingWarmWritesPerSecond write units a
second for all the shards of a wave, so a shard adds its rows x write units an item x shards in the wave / that
rate. An upper bound: on-demand DynamoDB may double its rate after 30 minutes at a peak, and the bench's shard time
already holds the local store's load (about 1 s a 100,000 customers).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from pipeline.warehouse.layout import shard_count_for
from tools.aws.template import TaskSize, smallest_fargate_size

TARGET_CUSTOMERS = (10_000_000, 50_000_000)
HEADROOM = 1.3  # peak RSS is sampled by the kernel per page; Python's allocator and XGBoost's buffers jitter


@dataclass(frozen=True)
class ProcessMeasure:
    """One process of the run: its wall seconds, the rows it handled and its peak resident memory."""
    name: str
    seconds: float
    rows: int
    peak_rss_mib: float
    cpu_seconds: float | None = None


@dataclass(frozen=True)
class Measured:
    """What the projection needs from a bench run."""
    customers: int
    state_seconds: dict[str, float]  # top-level states
    training: ProcessMeasure
    shards: list[ProcessMeasure]
    idle_process: ProcessMeasure  # imports only: the fixed part of a task's time and memory
    rows_per_shard: int
    max_concurrency: int
    configured_sizes: dict[str, TaskSize]  # ASL state -> the template's size
    time_limits: dict[str, float]  # ASL state -> TimeoutSeconds (Lambda Timeout for the Lambdas)
    max_training_rows: int  # the stack's MaxTrainingRows
    serving_writes_per_second: int  # the stack's ServingWarmWritesPerSecond
    write_units_per_customer: int  # a customer's serving item, in DynamoDB write units


def scaled(fixed: float, measured: float, measured_rows: int, rows: float) -> float:
    """Fixed part + the measured part above it, in proportion to the rows."""
    return fixed + max(0.0, measured - fixed) * rows / max(1, measured_rows)


def project_process(process: ProcessMeasure, idle: ProcessMeasure, rows: float) -> dict:
    return {"rows": round(rows),
            "seconds": scaled(idle.seconds, process.seconds, process.rows, rows),
            "peak_rss_mib": scaled(idle.peak_rss_mib, process.peak_rss_mib, process.rows, rows)}


def fitting_size(peak_mib: float, configured: TaskSize) -> dict:
    """The size a task of this projected peak needs (None when no Fargate task holds it)."""
    needed = peak_mib * HEADROOM
    size = smallest_fargate_size(needed, configured.cpu_units)
    chosen = None if size is None else TaskSize(*size, ephemeral_gb=configured.ephemeral_gb)
    return {"needed_mib": needed, "size": chosen, "configured_holds_it": configured.memory_mib >= needed}


def _worst_shard(shards: list[ProcessMeasure], idle: ProcessMeasure) -> ProcessMeasure:
    """A one-row stand-in for the shards with the largest measured time and memory per row (the worst shard is
    the one the sizes must hold), so that project_process gives idle + that per-row part x rows."""
    def per_row(value: float, fixed: float, rows: int) -> float:
        return max(0.0, value - fixed) / max(1, rows)
    return ProcessMeasure(
        "InferenceShard", rows=1,
        seconds=idle.seconds + max(per_row(s.seconds, idle.seconds, s.rows) for s in shards),
        peak_rss_mib=idle.peak_rss_mib + max(per_row(s.peak_rss_mib, idle.peak_rss_mib, s.rows) for s in shards))


def project(measured: Measured, customers: int) -> dict:
    factor = customers / measured.customers
    idle = measured.idle_process
    rows_before_cap = measured.training.rows * factor
    training = project_process(measured.training, idle, min(rows_before_cap, measured.max_training_rows))
    training |= {"rows_before_cap": round(rows_before_cap)}
    training |= fitting_size(training["peak_rss_mib"], measured.configured_sizes["Training"])
    shard_count = shard_count_for(customers, measured.rows_per_shard)
    shard = project_process(_worst_shard(measured.shards, idle), idle, math.ceil(customers / shard_count))
    shard |= fitting_size(shard["peak_rss_mib"], measured.configured_sizes["InferenceShard"])
    waves = math.ceil(shard_count / measured.max_concurrency)
    loading = (shard["rows"] * measured.write_units_per_customer * min(shard_count, measured.max_concurrency)
               / measured.serving_writes_per_second)
    shard |= {"serving_load_seconds": loading, "seconds": shard["seconds"] + loading}
    states = {
        "Cleanup": measured.state_seconds["Cleanup"],
        "PrepareData": measured.state_seconds["PrepareData"] * factor,
        "Training": training["seconds"],
        "Inference": waves * shard["seconds"],
        "Publish": measured.state_seconds["Publish"],
        "KeepFeatures": measured.state_seconds.get("KeepFeatures", 0.0),
    }
    projection = {"customers": customers, "factor": factor, "state_seconds": states,
                  "total_seconds": sum(states.values()), "training": training,
                  "inference": {"shard_count": shard_count, "waves": waves, "per_shard": shard}}
    return projection | {"warnings": projection_warnings(projection, measured.time_limits)}


def projection_warnings(projection: dict, time_limits: dict[str, float]) -> list[str]:
    """What would break at that size: a state past its timeout, a task larger than Fargate offers."""
    seconds = {**projection["state_seconds"], "InferenceShard": projection["inference"]["per_shard"]["seconds"]}
    warnings = [f"{state}: {seconds[state]:,.0f} s projected, over its {limit:,.0f} s timeout"
                for state, limit in time_limits.items() if state in seconds and seconds[state] > limit]
    for name, task in (("Training", projection["training"]), ("InferenceShard", projection["inference"]["per_shard"])):
        if task["size"] is None:
            warnings.append(f"{name}: {task['needed_mib']:,.0f} MiB needed, more than any Fargate task has")
    return warnings


def as_json(projection: dict) -> dict:
    """The projection with its TaskSize objects as plain fields."""
    def plain(task: dict) -> dict:
        size = task["size"]
        if size is None:
            return task | {"size_label": None}
        return task | {"size": asdict(size), "size_label": size.label()}
    inference = projection["inference"]
    return projection | {"training": plain(projection["training"]),
                         "inference": inference | {"per_shard": plain(inference["per_shard"])}}
