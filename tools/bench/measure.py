"""`make bench`: measured speed and memory of the weekly run, steady state and cold, each next to a bare baseline,
with its AWS cost and projections to 10 and 50 million customers (numbers for issue notes; never asserted in tests).

    python -m tools.bench.measure [--customers N] [--weeks W] [--out-dir DIR] [--prices PATH] [--generate-only]

In a temporary PIPELINE_HOME (the data of `make run` is left alone):
1. generate the synthetic panel in a child process, so this process's peak memory is the launcher's alone, and copy
   it once, before any run, for the cold run;
2. warm up, unmeasured: run weeks T-H and T-1 of the newest week T (H: churn_horizon_weeks), so that T finds what
   it finds every week: a champion trained the week before and published scores whose labels are now complete;
3. measure T twice, steady state (after the warm-up) then cold (in the untouched copy). Each time: run the state
   machine (the Lambdas run in this process, each container task is a child process that logs its own peak memory
   when it ends, local_runtime/container.py; the prepared Parquet is kept, hard links, before Publish deletes it),
   then tools/bench/bare_baseline.py on that run's prepared Parquet;
4. an idle process that only imports the tasks' libraries (the fixed part of a task, for the projection); the cost
   and the projection come from the steady-state run, the one that happens every week;
5. write bench-results/bench-<customers>x<weeks>.json and .md, and print the Markdown.
"""
from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from rich.console import Console
from rich.markdown import Markdown

from local_runtime.asl import ExecutionFailed
from local_runtime.container import RESOURCES_EVENT, peak_rss_mib
from local_runtime.duckdb_engine import SCAN_LOG_ENV, DuckDbEngine
from local_runtime.host import local_services
from local_runtime.launcher import STATE_MACHINE_PATH, execute_locally, new_execution_name
from pipeline.core.settings import REPO_ROOT, load_settings
from pipeline.execution.identity import Run, landed_weeks
from pipeline.model.store import ModelStore
from pipeline.serving.store import CUSTOMER
from pipeline.warehouse.layout import work_prefix
from tools.aws.template import (
    configured_lambda_memory_mib,
    configured_task_sizes,
    load_template,
    parameter_default,
)
from tools.bench.cost import (
    DEFAULT_PRICES_PATH,
    FargateTask,
    LambdaCall,
    RunUsage,
    ServingLoad,
    item_bytes,
    load_prices,
    run_cost,
    write_units,
)
from tools.bench.projection import TARGET_CUSTOMERS, Measured, ProcessMeasure, as_json, project
from tools.bench.record import write_results

SEED = 7
TOP_LEVEL_STATES = ("Cleanup", "PrepareData", "PrepareFeatures", "PrepareSets", "Training", "Inference", "Publish")
LAMBDA_STATES = ("Cleanup", "PrepareData", "KeepFeatures", "Publish")  # KeepFeatures: inside PrepareFeatures
IDLE_TASK = ("import containers.training.entrypoint, containers.inference.entrypoint, local_runtime.host; "
             "from local_runtime.container import resources_line; print(resources_line())")
# What Step Functions runs at once for a Map's MaxConcurrency 0 (unlimited), by the Map's mode.
MAP_CONCURRENCY_LIMIT = {"INLINE": 40, "DISTRIBUTED": 10_000}
SERVED_ITEMS_SIZED = 1_000  # the items read back to size the run's serving load
WEEK_POINTERS = 2  # Publish's items beside the customers': the week's and the current pointer
LAUNCHER_PROCESS = "launcher + in-process Lambdas (Cleanup, PrepareData with DuckDB, KeepFeatures, Publish)"


# ------------------------------------------------------------------------------------------ child processes

def run_measured(name: str, command: list[str], env: dict[str, str] | None = None) -> tuple[ProcessMeasure, list[str]]:
    """Run a child to its end: its wall time, the peak memory and CPU time it reports on its last line
    (local_runtime.container.resources_line), and its stdout lines."""
    started = time.monotonic()
    finished = subprocess.run(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True)
    seconds = time.monotonic() - started
    if finished.returncode != 0:
        raise RuntimeError(f"{name} failed (exit status {finished.returncode}): {' '.join(command)}\n"
                           f"{finished.stdout}")
    lines = finished.stdout.splitlines()
    reported = parse_task_log(lines)
    return ProcessMeasure(name, seconds, rows=0, peak_rss_mib=reported.get("peak_rss_mib"),
                          cpu_seconds=reported.get("cpu_seconds")), lines


def generate_panel(home: Path, customers: int, weeks: int) -> ProcessMeasure:
    # a child process: the panel's memory never counts as the launcher's
    command = [sys.executable, "-m", "tools.cli.app", "generate", "--customers", str(customers), "--weeks", str(weeks),
               "--seed", str(SEED)]
    measure, _ = run_measured("generate", command, env={**os.environ, "PIPELINE_HOME": str(home),
                                                        "PIPELINE_RUNTIME": "local"})
    return measure


def idle_task_process() -> ProcessMeasure:
    measure, _ = run_measured("idle task process (imports only)", [sys.executable, "-c", IDLE_TASK])
    return measure


def bare_baseline(home: Path, run: Run, rounds: int, out: Path) -> tuple[ProcessMeasure, dict]:
    """tools/bench/bare_baseline.py on the kept prepared Parquet: its measure, and what it says it did."""
    command = [sys.executable, "-m", "tools.bench.bare_baseline", "--home", str(home),
               "--run-date", run.run_date.isoformat(), "--execution", run.execution_name,
               "--rounds", str(rounds), "--out", str(out)]
    measure, lines = run_measured("bare baseline", command)
    summary = json.loads(lines[-2])  # its result, then its resources line
    rows = summary["rows_trained"] + summary["rows_scored"]
    return ProcessMeasure(measure.name, measure.seconds, rows, measure.peak_rss_mib, measure.cpu_seconds), summary


# ------------------------------------------------------------------------------------------ the pipeline run

@dataclass
class PipelineRun:
    result: object  # local_runtime.asl.ExecutionResult
    execution_name: str
    seconds: float
    launcher_peak_rss_mib: float
    sql_statements: int
    sql_bytes_read: int  # what DuckDB read from files for the run's statements: Athena's "data scanned"
    kept_home: Path  # holds warehouse/work/… as PrepareData wrote it


@contextmanager
def counting_sql_statements() -> Iterator[list[str]]:
    """Athena bills per query: count the statements sent to DuckDB, Athena's stand-in (the Lambdas' queries and
    PrepareSets' UNLOADs, each one call of `unload`)."""
    sent: list[str] = []
    originals = {name: getattr(DuckDbEngine, name) for name in ("query", "unload")}

    def counted(name, original):
        @functools.wraps(original)
        def call(self, *args, **kwargs):
            sent.append(name)
            return original(self, *args, **kwargs)
        return call

    for name, original in originals.items():
        setattr(DuckDbEngine, name, counted(name, original))
    try:
        yield sent
    finally:
        for name, original in originals.items():
            setattr(DuckDbEngine, name, original)


class PreparedDataKeeper:
    """Publish deletes the week's work files; hard-link them elsewhere as soon as PrepareSets has written them,
    so the baseline reads the very same Parquet. Linking takes milliseconds; that time is taken out of the run's."""

    def __init__(self, home: Path, kept_home: Path):
        self.home, self.kept_home, self.seconds = home, kept_home, 0.0

    def __call__(self, event) -> None:
        if event.name == "PrepareSets" and not event.scope and event.status == "succeeded":
            started = time.monotonic()
            prefix = work_prefix(Run.model_validate(event.output["run"]))
            shutil.copytree(self.home / "warehouse" / prefix, self.kept_home / "warehouse" / prefix,
                            copy_function=os.link)
            self.seconds += time.monotonic() - started


def reset_peak_memory() -> None:
    """Make the next peak_rss_mib() this run's own, not the warm-up's or the other run's: on Linux, writing 5 to
    clear_refs resets VmHWM to the memory resident now. Elsewhere the peak stays the whole process's."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def run_pipeline(home: Path, kept_home: Path, run_date: str) -> PipelineRun:
    execution_name = new_execution_name(run_date)
    keeper = PreparedDataKeeper(home, kept_home)
    scan_log = kept_home.parent / "scanned.jsonl"
    scan_log.parent.mkdir(parents=True, exist_ok=True)
    reset_peak_memory()
    with counting_sql_statements() as statements, environment(SCAN_LOG_ENV, str(scan_log)):
        started = time.monotonic()
        result = execute_locally({"run_date": run_date}, execution_name=execution_name, on_event=keeper)
        seconds = time.monotonic() - started - keeper.seconds
    launcher_peak = peak_rss_mib()
    return PipelineRun(result, execution_name, seconds, launcher_peak, len(statements), bytes_scanned(scan_log),
                       kept_home)


def bytes_scanned(scan_log: Path) -> int:
    """The bytes the engine's scan log says its statements read (local_runtime.duckdb_engine.SCAN_LOG_ENV)."""
    lines = scan_log.read_text().splitlines() if scan_log.exists() else []
    return sum(json.loads(line)["bytes_read"] for line in lines)


def warm_up_weeks(newest: dt.date, churn_horizon_weeks: int) -> list[str]:
    """The weeks to run before the newest one: the week whose scores it realizes, then the week before it (whose
    model is its champion). One week when churn_horizon_weeks is 1."""
    return sorted({(newest - dt.timedelta(weeks=weeks_back)).isoformat() for weeks_back in (churn_horizon_weeks, 1)})


def warm_up(run_date: str) -> dict:
    """An unmeasured run of an earlier week, as the weekly schedule ran it."""
    execution_name = new_execution_name(run_date)
    execute_locally({"run_date": run_date}, execution_name=execution_name)
    return {"run_date": run_date, "execution_name": execution_name}


@contextmanager
def environment(name: str, value: str) -> Iterator[None]:
    """The environment variable `name` set to `value` for the block, then as it was."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            del os.environ[name]
        else:
            os.environ[name] = previous


def in_data_directory(home: Path):
    """The launcher, its Lambdas and its tasks find their data directory in PIPELINE_HOME: `home` for the block."""
    return environment("PIPELINE_HOME", str(home))


# ------------------------------------------------------------------------------------------ reading the run

def parse_task_log(lines: list[str]) -> dict:
    """From a task's log: its resources line (peak memory, CPU) and the result its entrypoint reported."""
    found: dict = {}
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        if record.get("event") == RESOURCES_EVENT:
            found |= {"peak_rss_mib": record["peak_rss_mib"], "cpu_seconds": record["cpu_seconds"]}
        elif isinstance(record.get("result"), dict) and record.get("message", "").endswith(" succeeded"):
            found["result"] = record["result"]
    return found


def task_logs(log_dir: Path) -> dict[str, list[dict]]:
    """ASL state name -> what each of its task logs (`<State>-<task id>.log`) says, successful attempts only."""
    logs: dict[str, list[dict]] = {}
    for path in sorted(log_dir.glob("*-*.log")):
        parsed = parse_task_log(path.read_text().splitlines())
        if "result" in parsed and "peak_rss_mib" in parsed:
            logs.setdefault(path.stem.rsplit("-", 1)[0], []).append(parsed | {"log": path.name})
    return logs


def succeeded(history, name: str, scoped: bool = False) -> list:
    return [event for event in history
            if event.name == name and event.status == "succeeded" and bool(event.scope) == scoped]


def _seconds(event) -> float:
    return event.ended - event.started


def task_processes(run: PipelineRun, log_dir: Path) -> tuple[ProcessMeasure, list[ProcessMeasure], dict]:
    """The training task and each inference shard task: durations from the execution, memory from their logs; and
    the model's metrics, as Training reported them."""
    history, prepared = run.result.history, run.result.output["prepared"]
    logs = task_logs(log_dir)
    training_log = logs["Training"][-1]
    training = ProcessMeasure("Training task", _seconds(succeeded(history, "Training")[-1]),
                              training_log["result"]["rows_trained"],
                              training_log["peak_rss_mib"], training_log["cpu_seconds"])
    shard_logs = {entry["result"]["shard"]: entry for entry in logs.get("InferenceShard", [])}
    shards = []
    for event in succeeded(history, "InferenceShard", scoped=True):
        shard = prepared["shards"][int(re.search(r"\[(\d+)\]$", event.scope).group(1))]
        entry = shard_logs[shard]
        shards.append(ProcessMeasure(f"InferenceShard {shard} task", _seconds(event), entry["result"]["rows_scored"],
                                     entry["peak_rss_mib"], entry["cpu_seconds"]))
    return training, sorted(shards, key=lambda process: process.name), training_log["result"]


def state_rows(output: dict, customers: int, weeks: int, rows_trained: int) -> dict[str, tuple[int | None, str]]:
    """The rows each top-level state handled, from the execution's output (what the states reported) and the
    training task's log."""
    prepared, published = output.get("prepared", {}), output.get("published", {})
    return {"Cleanup": (None, ""),
            "PrepareData": (prepared.get("snapshot_rows", customers * weeks), "snapshot rows checked"),
            "PrepareFeatures": (prepared.get("features", {}).get("week_count"), "weeks of feature rows computed"),
            "PrepareSets": (prepared.get("snapshot_rows", customers * weeks), "snapshot rows in the window"),
            "Training": (rows_trained, "training rows"),
            "Inference": (prepared.get("scoring_rows"), "customers scored"),
            "Publish": (published.get("rows_published"), "predictions checked")}


def state_table(history, rows: dict[str, tuple[int | None, str]]) -> list[dict]:
    table = []
    for name in TOP_LEVEL_STATES:
        seconds = sum(_seconds(event) for event in succeeded(history, name))
        count, what = rows[name]
        table.append({"state": name, "seconds": seconds, "rows": count, "rows_what": what,
                      "rows_per_second": count / seconds if count and seconds else None})
    return table


def published_rounds(output: dict) -> int:
    """The boosting rounds of the model the run published (the baseline trains as many)."""
    model = ModelStore(local_services().storage).load(output["run"]["model_version"])
    return int(model.params.get("rounds", model.metrics["best_iteration"] + 1))


# ------------------------------------------------------------------------------------------ cost and paper

def asl_limits_and_concurrency() -> tuple[dict[str, float], int]:
    """Each task state's TimeoutSeconds and the Inference Map's MaxConcurrency, from the state machine."""
    states = json.loads(STATE_MACHINE_PATH.read_text())["States"]
    inference = states["Inference"]
    limits = {"Training": states["Training"]["TimeoutSeconds"],
              "InferenceShard": inference["ItemProcessor"]["States"]["InferenceShard"]["TimeoutSeconds"]}
    mode = inference["ItemProcessor"].get("ProcessorConfig", {}).get("Mode", "INLINE")
    return limits, inference.get("MaxConcurrency") or MAP_CONCURRENCY_LIMIT[mode]


def serving_load(run: PipelineRun) -> ServingLoad:
    """What the run wrote into the serving store (DynamoDB on AWS): an item per customer published, sized from a
    sample read back as loaded, and the week's pointers; kept SERVING_DAYS."""
    services, output = local_services(), run.result.output
    sampled = services.sql.query(f"SELECT customer_id FROM engagement.predictions WHERE run_date = "
                                 f"DATE '{output['run']['run_date']}' LIMIT {SERVED_ITEMS_SIZED}")
    items = services.serving.get_items([(f"{CUSTOMER}{customer}", run.execution_name)
                                        for customer in sampled.column("customer_id").to_pylist()])
    return ServingLoad(output["published"]["rows_published"] + WEEK_POINTERS,
                       sum(map(item_bytes, items)) / max(1, len(items)), load_settings().serving_days)


def usage_of_run(run: PipelineRun, training: ProcessMeasure, shards: list[ProcessMeasure], template: dict,
                 athena_bytes: int) -> RunUsage:
    sizes, memory = configured_task_sizes(template), configured_lambda_memory_mib(template)
    history = run.result.history
    return RunUsage(
        tasks=[FargateTask("Training", training.seconds, sizes["Training"])]
        + [FargateTask("InferenceShard", shard.seconds, sizes["InferenceShard"]) for shard in shards],
        lambda_calls=[LambdaCall(name, _seconds(event), memory[name]) for name in LAMBDA_STATES
                      for event in succeeded(history, name) + succeeded(history, name, scoped=True)],
        state_transitions=len(history),  # one entry per state entered or retried
        athena_queries=run.sql_statements, athena_bytes_per_query=athena_bytes, serving=serving_load(run))


def describe_usage(usage: RunUsage, prices_file: str, prices: dict) -> dict:
    """The cost with the usage behind it, in words a reader can check."""
    def tasks_of(state: str) -> str:
        tasks = [task for task in usage.tasks if task.state == state]
        return (f"{state} {len(tasks)} x {sum(t.seconds for t in tasks) / max(1, len(tasks)):.1f} s "
                f"at {tasks[0].size.label()}") if tasks else f"{state}: none"
    gb_seconds = sum(call.seconds * call.memory_mib / 1024 for call in usage.lambda_calls)
    return {"prices_file": prices_file, "region": prices.get("region", "?"),
            "usage": {"fargate": [tasks_of("Training"), tasks_of("InferenceShard")],
                      "lambda": f"{len(usage.lambda_calls)} invocations, {gb_seconds:.1f} GB-s",
                      "step_functions": f"{usage.state_transitions} state transitions",
                      "athena": f"{usage.athena_queries} queries x {usage.athena_bytes_per_query / 2**20:.1f} MB "
                                f"(the bytes DuckDB read for them, on average; "
                                f"{prices['athena']['minimum_mb_per_query']} MB minimum per query)",
                      "dynamodb": f"{usage.serving.items:,} items x {usage.serving.item_bytes:.0f} bytes loaded "
                                  f"({write_units(usage.serving.items, usage.serving.item_bytes, prices):,} write "
                                  f"units), kept {usage.serving.days_kept} days"},
            "dollars": run_cost(usage, prices)}


def projected_usage(usage: RunUsage, projection: dict) -> RunUsage:
    """The same run at the projected size: projected durations, the sizes that hold it, scaled scans."""
    factor, inference = projection["factor"], projection["inference"]
    training, shard = projection["training"], inference["per_shard"]
    sizes = {task.state: task.size for task in usage.tasks}
    measured_shards = sum(task.state == "InferenceShard" for task in usage.tasks)
    return RunUsage(
        tasks=[FargateTask("Training", training["seconds"], training["size"] or sizes["Training"])]
        + [FargateTask("InferenceShard", shard["seconds"], shard["size"] or sizes["InferenceShard"])]
        * inference["shard_count"],
        lambda_calls=[LambdaCall(call.state, projection["state_seconds"][call.state], call.memory_mib)
                      for call in usage.lambda_calls],
        state_transitions=usage.state_transitions - measured_shards + inference["shard_count"],
        athena_queries=usage.athena_queries, athena_bytes_per_query=round(usage.athena_bytes_per_query * factor),
        serving=ServingLoad(round(usage.serving.items * factor), usage.serving.item_bytes, usage.serving.days_kept))


# ------------------------------------------------------------------------------------------ putting it together

def _process_row(process: ProcessMeasure) -> dict:
    return {"name": process.name, "seconds": process.seconds, "rows": process.rows,
            "peak_rss_mib": process.peak_rss_mib, "cpu_seconds": process.cpu_seconds}


def project_to_paper(customers: int, states: list[dict], training: ProcessMeasure, shards: list[ProcessMeasure],
                     template: dict, usage: RunUsage, prices: dict) -> list[dict]:
    """The projections to TARGET_CUSTOMERS, each with the cost of a run of that size."""
    limits, concurrency = asl_limits_and_concurrency()
    lambda_timeouts = {name: template["Resources"][f"{name}Function"]["Properties"]["Timeout"]
                       for name in LAMBDA_STATES}
    kept = sum(call.seconds for call in usage.lambda_calls if call.state == "KeepFeatures")  # inside a top state
    measured = Measured(customers, {state["state"]: state["seconds"] for state in states} | {"KeepFeatures": kept},
                        training, shards, idle_task_process(), load_settings().rows_per_shard, concurrency,
                        configured_task_sizes(template), limits | lambda_timeouts, load_settings().max_training_rows,
                        int(parameter_default(template, "ServingWarmWritesPerSecond")),
                        write_units(1, usage.serving.item_bytes, prices))
    projections = [project(measured, target) for target in TARGET_CUSTOMERS]
    return [as_json(projection) | {"cost": run_cost(projected_usage(usage, projection), prices),
                                   "idle_process": _process_row(measured.idle_process)}
            for projection in projections]


@dataclass
class MeasuredRun:
    """One measured run of the week and the bare baseline on its prepared Parquet."""
    run: PipelineRun
    training: ProcessMeasure
    shards: list[ProcessMeasure]
    baseline: ProcessMeasure
    baseline_did: dict
    states: list[dict]
    model_metrics: dict


def measure_run(home: Path, scratch: Path, run_date: str, customers: int, weeks: int) -> MeasuredRun:
    """Run the week in `home` (PIPELINE_HOME), then the bare baseline on the Parquet that run prepared."""
    run = run_pipeline(home, scratch / "kept", run_date)
    output = run.result.output
    training, shards, model_metrics = task_processes(run, home / "logs" / run.execution_name)
    baseline, baseline_did = bare_baseline(run.kept_home, Run.model_validate(output["run"]),
                                           published_rounds(output), scratch / "baseline.parquet")
    states = state_table(run.result.history, state_rows(output, customers, weeks, training.rows))
    return MeasuredRun(run, training, shards, baseline, baseline_did, states, model_metrics)


def run_report(measured: MeasuredRun) -> dict:
    run, baseline = measured.run, measured.baseline
    published = run.result.output["published"]
    launcher = ProcessMeasure(LAUNCHER_PROCESS, run.seconds, 0, run.launcher_peak_rss_mib)
    return {
        "execution_name": run.execution_name, "run_seconds": run.seconds, "states": measured.states,
        "processes": [_process_row(p) for p in (launcher, measured.training, *measured.shards, baseline)],
        "baseline": {"seconds": baseline.seconds, "peak_rss_mib": baseline.peak_rss_mib,
                     **{key: measured.baseline_did[key] for key in ("rows_trained", "rows_scored", "rounds")}},
        "ratio": run.seconds / baseline.seconds,
        "sql_statements": run.sql_statements, "sql_bytes_read": run.sql_bytes_read,
        **{key: published.get(key) for key in ("auc", "bayes_auc", "realized_auc")},
        **{key: measured.model_metrics.get(key) for key in ("bg_bb_auc", "pareto_nbd_auc")},
    }


def cost_and_projection(measured: MeasuredRun, customers: int, prices: dict, prices_file: str) -> dict:
    """The AWS cost of the run and the projections."""
    run, template = measured.run, load_template()
    usage = usage_of_run(run, measured.training, measured.shards, template,
                         round(run.sql_bytes_read / max(1, run.sql_statements)))
    return {"aws_cost": describe_usage(usage, prices_file, prices),
            "projections": project_to_paper(customers, measured.states, measured.training, measured.shards,
                                           template, usage, prices)}


def bench(home: Path, scratch: Path, customers: int, weeks: int, generate_seconds: float,
          prices: dict, prices_file: str) -> dict:
    """The newest week of the panel landed in `home`, steady state (after the warm-up weeks, in `home`) and cold (in
    a copy made before any run); everything `make bench` reports, as one dict."""
    cold_home = scratch / "cold" / "home"
    shutil.copytree(home, cold_home)
    with in_data_directory(home):
        newest, horizon = landed_weeks(local_services())[-1], load_settings().churn_horizon_weeks
        warm_ups = [warm_up(week) for week in warm_up_weeks(newest, horizon)]
        steady = measure_run(home, scratch / "steady", newest.isoformat(), customers, weeks)
        paper = cost_and_projection(steady, customers, prices, prices_file)
    with in_data_directory(cold_home):
        cold = measure_run(cold_home, scratch / "cold", newest.isoformat(), customers, weeks)
    return {
        "customers": customers, "weeks": weeks, "run_date": newest.isoformat(), "churn_horizon_weeks": horizon,
        "machine_cpus": os.cpu_count(), "generate_seconds": generate_seconds, "warm_up": warm_ups,
        "runs": {"steady_state": run_report(steady), "cold": run_report(cold)},
        **paper,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.measure", description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--out-dir", type=Path, default=REPO_ROOT / "bench-results")
    parser.add_argument("--prices", type=Path, default=DEFAULT_PRICES_PATH, help="AWS prices (JSON)")
    parser.add_argument("--generate-only", action="store_true", help="time the data generation only")
    args = parser.parse_args(argv)
    console = Console()
    prices = load_prices(args.prices)
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as scratch:
        home = Path(scratch) / "home"
        with console.status(f"generating {args.customers:,} customers x {args.weeks} weeks"):
            generate = generate_panel(home, args.customers, args.weeks)
        rows = args.customers * args.weeks
        console.print(f"generate + validate + land: {generate.seconds:.1f} s ({rows / generate.seconds:,.0f} rows/s)")
        if args.generate_only:
            return
        try:
            with console.status("warm-up weeks, then the newest week steady state and cold, each with its bare "
                                "baseline"):
                results = bench(home, Path(scratch), args.customers, args.weeks, generate.seconds, prices,
                                os.path.relpath(args.prices, REPO_ROOT))
        except ExecutionFailed as failure:
            console.print(f"[red]a weekly run failed, nothing to measure:[/] {failure.error}: {failure.cause}",
                          soft_wrap=True, highlight=False)
            sys.exit(1)
    json_path, markdown_path = write_results(results, args.out_dir)
    console.print(Markdown(markdown_path.read_text()))
    console.print(f"written: {json_path} and {markdown_path}", soft_wrap=True)


if __name__ == "__main__":
    main()
