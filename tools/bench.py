"""`make bench`: measured speed and memory of the weekly run (numbers for issue notes; never asserted in tests).

    python -m tools.bench [--customers N] [--weeks W] [--generate-only]
Runs in a temporary PIPELINE_HOME, so the data of `make run` is left alone.
"""
from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

from rich.console import Console
from rich.table import Table


def _peak_rss_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.bench")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--generate-only", action="store_true")
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as home:
        os.environ["PIPELINE_HOME"] = home
        from local_runtime.launcher import execute_locally
        from local_runtime.services import install_local_host
        from tools.synthetic_panel import land_synthetic_panel

        clock = time.monotonic()
        land_synthetic_panel(install_local_host(), args.customers, args.weeks, seed=7, if_missing=False)
        generate_seconds = time.monotonic() - clock
        rows = args.customers * args.weeks
        table = Table("measure", "value", title=f"{args.customers:,} customers x {args.weeks} weeks")
        table.add_row("generate + validate + land", f"{generate_seconds:.1f}s ({rows / generate_seconds:,.0f} rows/s)")
        if not args.generate_only:
            events = []
            clock = time.monotonic()
            execute_locally({}, on_event=events.append)
            table.add_row("weekly run, total", f"{time.monotonic() - clock:.1f}s")
            for event in events:
                if not event.scope and event.ended is not None:
                    table.add_row(f"  {event.name}", f"{event.ended - event.started:.1f}s")
        table.add_row("peak memory, this process", f"{_peak_rss_mib(resource.RUSAGE_SELF):,.0f} MiB")
        if not args.generate_only:
            table.add_row("peak memory, largest task process", f"{_peak_rss_mib(resource.RUSAGE_CHILDREN):,.0f} MiB")
        console.print(table)


if __name__ == "__main__":
    main()
