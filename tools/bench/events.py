"""`make bench-events`: `ingest-events` measured on this machine, at 100M events by default.

    python -m tools.bench.events [--events N] [--out-dir DIR]

In a temporary data directory:
1. write a sparse-purchase event log of about N events (tools/synthetic/sparse_events.py) to Parquet, customers
   a chunk at a time, so the log's size is bounded by the disk, not by memory;
2. land it (read, check and conform every row, write engagement.events) in a process of its own, then, in another,
   sum the events by day into engagement.event_days (the one statement that deduplicates): events a second and
   each process's peak memory;
3. build and land the newest week's snapshot from the days, as each weekly upload does, in a process of its own:
   seconds and peak memory;
4. build and land the newest 13 weeks, as a first upload of a long log does for every 13 weeks it covers
   (athena_sql/event_weeks.sql, in the statements statement_plan chooses): seconds a week and peak memory;
5. ingest a weekly upload: the log's last 7 days again, a week later, as new events (every step: landing, the days
   with their duplicate check against every earlier event, the new week): seconds and peak memory.
It writes `bench-results/bench-events-<N>.json`.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.core.settings import REPO_ROOT
from pipeline.landing.events import WEEKS_PER_STATEMENT
from tools.synthetic.sparse_events import MAPPING, sparse_event_log

EVENTS_PER_CUSTOMER = 7.6  # what the sparse world gives over two years of history
CHUNK_CUSTOMERS = 500_000
WEEKS = 4
PHASES = {
    "land": "from pipeline.landing.events import land_event_log\n"
            "counted, _ = land_event_log(services, log, mapping)\n"
            "result = {'events': counted.events}\n",
    "days": "from pipeline.landing.events import make_days\n"
            "result = {'uploads': len(make_days(services))}\n",
    "build_week": "result = newest_weeks(1)\n",
    "weekly_upload": "from pipeline.landing.events import ingest_events\n"
                     "landed = ingest_events(services, log, mapping)\n"
                     "result = {'events': landed.events, 'weeks': len(landed.weeks),\n"
                     "          'customers': landed.weeks[-1][1]}\n",
    "build_weeks": f"result = newest_weeks({WEEKS_PER_STATEMENT})\n",
}
PHASE_SCRIPT = """
import datetime as dt, json, resource, sys, time
from pathlib import Path
from local_runtime.host import install_local_host
from pipeline.landing.event_mapping import read_mapping
from pipeline.landing.events import build_weeks
services, log, mapping = install_local_host(), Path(sys.argv[1]), read_mapping(Path(sys.argv[2]))

def newest_weeks(count):
    # build and land the newest `count` complete weeks, as an upload whose first event is that far back does
    newest = services.sql.query('SELECT max(local_date) AS d FROM engagement.event_days').column(0)[0].as_py()
    last = newest + dt.timedelta(days=1) - dt.timedelta(days=(newest.weekday() + 1 - mapping.weekday) % 7)
    built, _ = build_weeks(services, mapping, last - dt.timedelta(weeks=count - 1, days=1))
    return {{'weeks': len(built), 'newest_week': built[-1][0].isoformat(), 'customers': [rows for _, rows in built]}}

started = time.monotonic()
{phase}
result['seconds'] = time.monotonic() - started
result['peak_mib'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(result))
"""


def write_log(path: Path, events: int, seed: int) -> int:
    """About `events` events of the sparse world, written a chunk of customers at a time; how many were written."""
    customers, written = int(events / EVENTS_PER_CUSTOMER), 0
    with pq.ParquetWriter(path, sparse_event_log(1, WEEKS, seed).schema) as writer:
        for chunk, start in enumerate(range(0, customers, CHUNK_CUSTOMERS)):
            log = sparse_event_log(min(CHUNK_CUSTOMERS, customers - start), WEEKS, seed + chunk)
            # Each chunk numbers its customers and events from 0: prefix them with the chunk
            for name in ("event_id", "customer_id"):
                log = log.set_column(log.schema.get_field_index(name), name,
                                     pc.binary_join_element_wise(pa.scalar(f"c{chunk}-"), log.column(name), ""))
            writer.write_table(log)
            written += log.num_rows
    return written


def write_next_week(log: Path, path: Path) -> int:
    """The log's last 7 days again, a week later and as new events: a weekly upload's worth. How many."""
    import duckdb

    shifted = duckdb.sql(
        f"SELECT 'next-' || event_id AS event_id, customer_id, "
        f"strftime(CAST(occurred_at AS TIMESTAMP) + INTERVAL 7 DAY, '%Y-%m-%dT%H:%M:%SZ') AS occurred_at, "
        f"event_name, amount FROM read_parquet('{log}') "
        f"WHERE occurred_at >= (SELECT strftime(CAST(max(occurred_at) AS TIMESTAMP) - INTERVAL 7 DAY, "
        f"'%Y-%m-%dT%H:%M:%SZ') FROM read_parquet('{log}'))")
    shifted.write_parquet(str(path))
    return pq.ParquetFile(path).metadata.num_rows


def run_phase(name: str, home: Path, log: Path, mapping: Path) -> dict:
    """The phase's measures, or {"error": the error line it ended with} (a statement may pass QUERY_TIMEOUT_SECONDS
    or the local engine's memory)."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", PHASE_SCRIPT.format(phase=PHASES[name]), str(log), str(mapping)],
                          cwd=REPO_ROOT, env={**os.environ, "PIPELINE_HOME": str(home)}, capture_output=True,
                          text=True)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        # the error itself, not the advice DuckDB prints after it
        return {"error": next((line for line in reversed(lines) if "Error" in line), lines[-1]),
                "seconds": time.monotonic() - started}
    return json.loads(done.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.events", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out-dir", type=Path, default=REPO_ROOT / "bench-results")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="events-bench-") as scratch:
        log, mapping = Path(scratch) / "log.parquet", Path(scratch) / "log.mapping.toml"
        started = time.monotonic()
        events = write_log(log, args.events, args.seed)
        mapping.write_text(MAPPING)
        generated = {"events": events, "seconds": time.monotonic() - started, "file_mib": log.stat().st_size / 2**20,
                     "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
        print(f"wrote {events:,} events ({generated['file_mib']:,.0f} MiB of Parquet) in {generated['seconds']:.0f} s")
        land = run_phase("land", Path(scratch) / "home", log, mapping)
        if "error" in land:
            raise SystemExit(f"landing failed: {land['error']}")
        days = run_phase("days", Path(scratch) / "home", log, mapping)
        if "error" in days:
            raise SystemExit(f"making the days failed: {days['error']}")
        land["events_per_second"] = land["events"] / (land["seconds"] + days["seconds"])
        print(f"landed {land['events']:,} events in {land['seconds']:.1f} s (peak {land['peak_mib']:,.0f} MiB), their "
              f"days in {days['seconds']:.1f} s (peak {days['peak_mib']:,.0f} MiB): {land['events_per_second']:,.0f} "
              "events/s")
        built = {phase: run_phase(phase, Path(scratch) / "home", log, mapping)
                 for phase in ("build_week", "build_weeks")}
        for phase, weeks in built.items():
            print(f"{phase} failed after {weeks['seconds']:.0f} s: {weeks['error']}" if "error" in weeks
                  else f"built {weeks['weeks']} week(s) to {weeks['newest_week']} "
                       f"({weeks['customers'][-1]:,} customers in the newest) in {weeks['seconds']:.1f} s, "
                       f"{weeks['seconds'] / weeks['weeks']:.1f} s a week, peak {weeks['peak_mib']:,.0f} MiB")
        next_week = Path(scratch) / "next-week.parquet"
        weekly = {"events_in_log": write_next_week(log, next_week),
                  **run_phase("weekly_upload", Path(scratch) / "home", next_week, mapping)}
        print(f"weekly upload failed after {weekly['seconds']:.0f} s: {weekly['error']}" if "error" in weekly
              else f"a weekly upload of {weekly['events']:,} events: landed, its days, its {weekly['weeks']} week(s) "
                   f"({weekly['customers']:,} customers in the newest) in {weekly['seconds']:.1f} s, "
                   f"peak {weekly['peak_mib']:,.0f} MiB")
    results = {"events": events, "machine_cpus": os.cpu_count(), "generate": generated, "land": land, "days": days,
               **built, "weekly_upload": weekly}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    path = args.out_dir / f"bench-events-{args.events}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written: {path}")


if __name__ == "__main__":
    main()
