"""What the cap on training rows (MAX_TRAINING_ROWS) costs in quality: one week run under several caps, each judged
on the same holdout customers, whom no fit trains on. The numbers behind the default cap (issue 20, item 6).

    python -m tools.research.row_cap_quality [--customers N] [--weeks W] [--seed S] [--caps 250000,1000000,...]

In a temporary PIPELINE_HOME: land the synthetic panel, then run the state machine for its newest week once per
cap (uncapped last). Each run is a new execution of the same week, so none has a champion to be compared with
(a champion of the same week is no opponent) and each prepares the same sets. What each Training task did and its
peak memory and CPU time come from its own log, as `make bench` reads them.
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from local_runtime.host import install_local_host, local_home
from local_runtime.launcher import execute_locally, new_execution_name
from pipeline.execution.identity import landed_weeks
from tools.bench.measure import in_data_directory, task_logs
from tools.synthetic.panel import land_synthetic_panel

UNCAPPED = 10**12


def run_under_cap(run_date: str, cap: int) -> dict:
    """One run of the week with MAX_TRAINING_ROWS=cap (the task processes inherit it): what Training kept, its
    holdout AUC and trees, and its task's CPU time and peak memory."""
    os.environ["MAX_TRAINING_ROWS"] = str(cap)
    execution_name = new_execution_name(run_date)
    execute_locally({"run_date": run_date}, execution_name=execution_name)
    training = task_logs(local_home() / "logs" / execution_name)["Training"][-1]
    metrics = training["result"]
    return {"cap": cap, "rows_trained": metrics["rows_trained"], "rows_before_cap": metrics["rows_before_cap"],
            "auc": metrics["auc"], "rounds": metrics["best_iteration"] + 1, "cpu_seconds": training["cpu_seconds"],
            "peak_rss_mib": training["peak_rss_mib"]}


def measure(customers: int, weeks: int, seed: int, caps: list[int]) -> list[dict]:
    """Land the panel in this process's PIPELINE_HOME and run its newest week under each cap, then uncapped."""
    services = install_local_host()
    land_synthetic_panel(services, customers, weeks, seed, if_missing=False)
    run_date = landed_weeks(services)[-1].isoformat()
    return [run_under_cap(run_date, cap) for cap in [*sorted(caps), UNCAPPED]]


def print_results(results: list[dict], console: Console) -> None:
    uncapped = results[-1]
    table = Table("cap", "rows trained", "holdout AUC", "vs uncapped", "trees", "Training CPU s", "peak MiB")
    for row in results:
        table.add_row("none" if row["cap"] == UNCAPPED else f"{row['cap']:,}", f"{row['rows_trained']:,}",
                      f"{row['auc']:.4f}", f"{row['auc'] - uncapped['auc']:+.4f}", str(row["rounds"]),
                      f"{row['cpu_seconds']:.1f}", f"{row['peak_rss_mib']:,.0f}")
    console.print(table)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--caps", default="500000,1000000,2000000,3000000",
                        help="comma-separated row caps to fit under (uncapped is always run too)")
    args = parser.parse_args(argv)
    caps = [int(cap) for cap in args.caps.split(",")]
    with tempfile.TemporaryDirectory(prefix="row-cap-quality-") as home, in_data_directory(Path(home)):
        print_results(measure(args.customers, args.weeks, args.seed, caps), Console())


if __name__ == "__main__":
    main()
