"""What the cap on training rows (MAX_TRAINING_ROWS) costs in quality: one week's training set, prepared once, is
fitted under several caps, each fit in a process of its own (so its peak memory is its own), and judged on the same
holdout customers, whom no fit trains on. The numbers behind the default cap (issue 20, item 6).

    python -m tools.research.row_cap_quality [--customers N] [--weeks W] [--seed S] [--caps 250000,1000000,...]

In a temporary PIPELINE_HOME: land the synthetic panel, run PrepareData and both UNLOADs of PrepareSets for the
newest week (as tests/conftest.py composes them), then Training once per cap (uncapped last).
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

from local_runtime.host import install_local_host
from pipeline.execution.identity import Run, landed_weeks, model_version_for
from pipeline.stages.prepare_data import prepare_data
from pipeline.stages.training import train
from pipeline.warehouse.sql import unload_statement
from tools.synthetic.panel import land_synthetic_panel

UNCAPPED = 10**12
EXECUTION = "row-cap-quality"


def prepared_week(customers: int, weeks: int, seed: int) -> Run:
    """Land the panel and prepare its newest week's sets in this process's PIPELINE_HOME; the run to train."""
    services = install_local_host()
    land_synthetic_panel(services, customers, weeks, seed, if_missing=False)
    run_date = landed_weeks(services)[-1]
    run = Run(run_date=run_date, churn_horizon_weeks=services.settings.churn_horizon_weeks,
              model_version=model_version_for(run_date, EXECUTION), execution_name=EXECUTION)
    prepared = prepare_data(services, run)
    for name in ("training_set", "scoring_set"):
        services.sql.run_unload(unload_statement(prepared[name], 0))
    return run


def train_capped(run: Run, cap: int) -> dict:
    """Training of the prepared week under `cap` (in a fresh process): what it kept, its holdout AUC, its time
    and this process's peak memory."""
    os.environ["MAX_TRAINING_ROWS"] = str(cap)
    services = install_local_host()
    started = time.monotonic()
    metrics = train(services, run)
    return {"cap": cap, "rows_trained": metrics["rows_trained"], "rows_before_cap": metrics["rows_before_cap"],
            "auc": metrics["auc"], "rounds": metrics["best_iteration"] + 1, "seconds": time.monotonic() - started,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure(customers: int, weeks: int, seed: int, caps: list[int]) -> list[dict]:
    run = prepared_week(customers, weeks, seed)
    spawn = multiprocessing.get_context("spawn")
    results = []
    for cap in [*sorted(caps), UNCAPPED]:
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
            results.append(pool.submit(train_capped, run, cap).result())
    return results


def print_results(results: list[dict], console: Console) -> None:
    uncapped = results[-1]
    table = Table("cap", "rows trained", "holdout AUC", "vs uncapped", "trees", "seconds", "peak MiB")
    for row in results:
        table.add_row("none" if row["cap"] == UNCAPPED else f"{row['cap']:,}", f"{row['rows_trained']:,}",
                      f"{row['auc']:.4f}", f"{row['auc'] - uncapped['auc']:+.4f}", str(row["rounds"]),
                      f"{row['seconds']:.1f}", f"{row['peak_rss_mib']:,.0f}")
    console.print(table)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--caps", default="250000,500000,1000000,2000000,4000000",
                        help="comma-separated row caps to fit under (uncapped is always fitted too)")
    args = parser.parse_args(argv)
    caps = [int(cap) for cap in args.caps.split(",")]
    with tempfile.TemporaryDirectory(prefix="row-cap-quality-") as home:
        os.environ["PIPELINE_HOME"] = str(Path(home))  # the spawned fits inherit it
        print_results(measure(args.customers, args.weeks, args.seed, caps), Console())


if __name__ == "__main__":
    main()
