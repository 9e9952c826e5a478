"""Command line: `python -m pipeline COMMAND` (or `engagement-pipeline COMMAND`)."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pipeline.config import load_settings, positive_int
from pipeline.errors import PipelineError

# Piped output (CI logs, `| tee`) gets wide lines rather than rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {value!r}") from None


def _positive(value: str) -> int:
    number = positive_int(value)
    if number is None:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return number


def cmd_generate(args) -> int:
    from pipeline.land import land_synthetic_panel
    from pipeline.services import build_services

    with console.status("generating synthetic weekly snapshots") as status:
        outcome = land_synthetic_panel(build_services(), args.customers, args.weeks, args.seed,
                                       if_missing=args.if_missing, force=args.force,
                                       progress=lambda week: status.update(f"landed week {week}"))
    console.print(outcome)
    return 0


def cmd_ingest(args) -> int:
    from pipeline.land import ingest_file
    from pipeline.services import build_services

    rows, location, notes = ingest_file(build_services(), args.file, args.snapshot_date)
    for note in notes:
        console.print(f"[yellow]note:[/] {note}")
    console.print(f"landed {rows:,} rows for snapshot {args.snapshot_date} at {location}", soft_wrap=True)
    return 0


def cmd_run(args) -> int:
    from pipeline.asl import ExecutionFailed
    from pipeline.launcher import execute_locally, new_execution_name
    from pipeline.report import RunProgress
    from pipeline.services import build_services

    settings = load_settings()
    services = build_services(settings)
    execution_input = {key: value for key, value in (("run_date", args.run_date and args.run_date.isoformat()),
                                                     ("churn_horizon_weeks", args.churn_horizon_weeks)) if value}
    execution_name = new_execution_name(execution_input.get("run_date"))
    console.print(f"execution {execution_name} of statemachine/pipeline.asl.json, input {json.dumps(execution_input)}",
                  soft_wrap=True)
    record = {"execution_name": execution_name, "input": execution_input,
              "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    clock = time.monotonic()
    with RunProgress(console) as progress:
        try:
            result = execute_locally(settings, execution_input, execution_name=execution_name, on_event=progress)
        except ExecutionFailed as failure:
            record |= {"duration_seconds": round(time.monotonic() - clock, 1)}
            _report_failure(services, record, progress.finished, failure)
            return 1
    record |= {"duration_seconds": round(time.monotonic() - clock, 1)}
    _report_success(services, record, progress.finished, result.output)
    return 0


def _report_failure(services, record: dict, finished: dict, failure) -> None:
    from pipeline.runs import record_run

    failed_state = next((name for name, event in finished.items() if event.status in ("caught", "failed")), "?")
    resolved = getattr(finished.get("Cleanup"), "output", None) or {}
    record |= {"status": "FAILED", "failed_state": failed_state, "error": failure.error, "cause": failure.cause,
               "run_date": resolved.get("run", {}).get("run_date", record["input"].get("run_date")),
               "states": _state_durations(finished)}
    record_run(services, record["execution_name"], record)
    err_console.print(f"[red]run failed[/] in {failed_state} after {record['duration_seconds']}s: "
                      f"{failure.error}: {_readable_cause(failure.cause)}", soft_wrap=True, highlight=False)
    err_console.print("published results were left as they were; details: `python -m pipeline runs`")


def _report_success(services, record: dict, finished: dict, output: dict) -> None:
    from pipeline.layout import model_prefix
    from pipeline.runs import record_run
    from pipeline.storage import read_json

    metrics = read_json(services.storage, f"{model_prefix(output['run']['model_version'])}metrics.json")
    record |= {"status": "SUCCEEDED", "run_date": output["run"]["run_date"], "states": _state_durations(finished),
               "auc": metrics["auc"], "bayes_auc": metrics["bayes_auc"]}
    record_run(services, record["execution_name"], record)
    _print_summary(finished, output, metrics, record)


def _readable_cause(cause: str) -> str:
    """Lambda and ECS failures carry JSON causes; show the message a person needs."""
    try:
        details = json.loads(cause)
    except ValueError:
        return cause
    if "errorMessage" in details:
        return details["errorMessage"]
    reasons = [container.get("Reason", "") for container in details.get("Containers", [])]
    return "; ".join(filter(None, reasons)) + (f" (log: {details['LogFile']})" if "LogFile" in details else "")


def _state_durations(finished) -> dict[str, float]:
    return {name: round(event.ended - event.started, 2) for name, event in finished.items()}


def _print_summary(finished: dict, output: dict, metrics: dict, record: dict) -> None:
    from pipeline.report import metrics_line, summary_table

    run_date = output["run"]["run_date"]
    console.print(summary_table(finished, output, metrics))
    # soft_wrap: paths and the query must stay copy-pasteable, whatever the terminal width.
    console.print(metrics_line(metrics), soft_wrap=True)
    console.print(f"Run {run_date} succeeded in {record['duration_seconds']}s. Results: engagement.predictions "
                  f"(partition run_date={run_date}) at {output['published']['predictions_location']}", soft_wrap=True)
    console.print(f"Next, try:\n  {os.path.relpath(sys.executable)} -m pipeline query "
                  "\"SELECT risk_band, count(*) AS customers, round(avg(churn_probability), 3) AS avg_probability "
                  f"FROM engagement.predictions WHERE run_date = DATE '{run_date}' GROUP BY risk_band "
                  "ORDER BY avg_probability DESC\"", soft_wrap=True, highlight=False)


def cmd_query(args) -> int:
    from pipeline.services import build_services

    result = build_services().sql.query(args.sql)
    rows = result.to_pylist()
    if args.format == "csv":
        sys.stdout.write(result.to_pandas().to_csv(index=False))
    elif args.format == "json":
        sys.stdout.writelines(json.dumps(row, default=str) + "\n" for row in rows)
    else:
        table = Table(*result.column_names)
        for row in rows:
            table.add_row(*("" if value is None else str(value) for value in row.values()))
        console.print(table)
    return 0


def cmd_runs(args) -> int:
    from pipeline.runs import past_runs
    from pipeline.services import build_services

    runs = past_runs(build_services())
    table = Table()
    for column in ("run_date", "status", "seconds", "auc", "failed in", "execution"):
        table.add_column(column, no_wrap=True)
    for run in runs:
        auc = f"{run['auc']:.4f}" if run.get("auc") is not None else ""
        table.add_row(run.get("run_date") or "", run["status"], str(run.get("duration_seconds", "")), auc,
                      run.get("failed_state", ""), run["execution_name"])
    console.print(table)
    for run in runs:
        if run.get("error"):
            console.print(f"{run['execution_name']}: {run['error']}: {_readable_cause(run.get('cause', ''))}",
                          soft_wrap=True, highlight=False)
    return 0


def cmd_contract(args) -> int:
    from pipeline.contract import markdown_table
    from pipeline.tables import snapshots_document

    print(json.dumps(snapshots_document(), indent=2) if args.glue else markdown_table())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="land a seeded synthetic panel of weekly snapshots")
    generate.add_argument("--customers", type=_positive, default=100_000)
    generate.add_argument("--weeks", type=_positive, default=12)
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument("--if-missing", action="store_true",
                          help="keep data already landed (the same panel, or your own ingested weeks)")
    generate.add_argument("--force", action="store_true", help="replace weeks you ingested with synthetic ones")
    generate.set_defaults(handler=cmd_generate)

    ingest = commands.add_parser("ingest", help="validate your own weekly CSV/Parquet and land it")
    ingest.add_argument("file", type=Path)
    ingest.add_argument("--snapshot-date", type=_date, required=True)
    ingest.set_defaults(handler=cmd_ingest)

    run = commands.add_parser("run", help="execute the weekly state machine locally")
    run.add_argument("--run-date", type=_date, help="the week to run (default: the newest snapshot)")
    run.add_argument("--churn-horizon-weeks", type=_positive)
    run.set_defaults(handler=cmd_run)

    query = commands.add_parser("query", help="Athena SQL over the cataloged tables (DuckDB locally)")
    query.add_argument("sql")
    query.add_argument("--format", choices=("table", "csv", "json"), default="table")
    query.set_defaults(handler=cmd_query)

    runs = commands.add_parser("runs", help="past runs with status and duration")
    runs.set_defaults(handler=cmd_runs)

    contract = commands.add_parser("contract", help="print the input contract (Markdown, or --glue JSON)")
    contract.add_argument("--glue", action="store_true")
    contract.set_defaults(handler=cmd_contract)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (PipelineError, FileNotFoundError) as error:
        err_console.print(f"[red]error:[/] {error}", highlight=False)
        return 2
