"""Is the champion/challenger comparison fair? Consecutive weekly runs of one panel whose laws never change, each
comparing its new model with the champion on the holdout customers' newest labelled week, which neither model
trained on. On such a panel a fair comparison favours neither: challenger - champion should be near 0 on average
(issue 20, item 3; before the holdout, the champion won 6 of 7 comparisons at 20,000 customers).

    python -m tools.research.challenger_fairness [--customers N] [--weeks W] [--runs R] [--seed S]

In a temporary PIPELINE_HOME: land the synthetic panel, run the state machine for its newest R weeks in order,
then read every run's comparison from engagement.model_metrics.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from local_runtime.host import install_local_host
from local_runtime.launcher import execute_locally, new_execution_name
from pipeline.execution.identity import landed_weeks
from tools.bench.measure import in_data_directory
from tools.synthetic.panel import land_synthetic_panel

COMPARISONS = """
SELECT run_date, auc, champion_auc, auc - champion_auc AS difference, promoted, champion_version IS NOT NULL AS fair
FROM engagement.model_metrics
ORDER BY run_date
"""


def consecutive_runs(customers: int, weeks: int, runs: int, seed: int) -> list[dict]:
    """Land the panel, run its newest `runs` weeks oldest first; each run's row of model_metrics."""
    services = install_local_host()
    land_synthetic_panel(services, customers, weeks, seed, if_missing=False)
    for run_date in landed_weeks(services)[-runs:]:
        execute_locally({"run_date": run_date.isoformat()}, execution_name=new_execution_name(run_date.isoformat()))
    return services.sql.query(COMPARISONS).to_pylist()


def summary(rows: list[dict]) -> dict:
    """The compared runs' mean difference, its spread, and how often the challenger won and was promoted."""
    differences = [row["difference"] for row in rows if row["fair"]]
    return {"compared": len(differences), "mean": statistics.fmean(differences),
            "stdev": statistics.stdev(differences) if len(differences) > 1 else 0.0,
            "challenger_ahead": sum(difference > 0 for difference in differences),
            "not_promoted": sum(not row["promoted"] for row in rows)}


def print_results(rows: list[dict], console: Console) -> None:
    table = Table("week", "challenger AUC", "champion AUC (same rows)", "challenger - champion", "promoted")
    for row in rows:
        compared = row["fair"]
        table.add_row(str(row["run_date"]), f"{row['auc']:.4f}",
                      f"{row['champion_auc']:.4f}" if compared else "no champion",
                      f"{row['difference']:+.4f}" if compared else "", "yes" if row["promoted"] else "no")
    console.print(table)
    if len(rows) < 2:
        return
    found = summary(rows)
    console.print(f"{found['compared']} comparisons: challenger - champion {found['mean']:+.4f} on average "
                  f"(standard deviation {found['stdev']:.4f}); the challenger was ahead {found['challenger_ahead']} "
                  f"time(s); {found['not_promoted']} week(s) not promoted")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--weeks", type=int, default=16)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="challenger-fairness-") as home, in_data_directory(Path(home)):
        print_results(consecutive_runs(args.customers, args.weeks, args.runs, args.seed), Console())


if __name__ == "__main__":
    main()
