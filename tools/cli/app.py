"""The command line, `engagement-pipeline COMMAND`: land data, run a week, query the results.

PIPELINE_RUNTIME (local, the default, or aws) is the one switch: it picks the services here, at the edge, once.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from local_runtime.asl import ExecutionFailed, Redrive
from local_runtime.host import install_local_host, local_home
from local_runtime.run_records import past_runs
from local_runtime.supervisor import INTERRUPTED, Outcome, new_record, resumable, supervise
from pipeline.core.errors import ConfigError, PipelineError
from pipeline.core.settings import load_settings
from pipeline.execution.events import root_cause
from pipeline.execution.identity import landed_weeks
from pipeline.landing.event_mapping import read_mapping
from pipeline.landing.events import event_log_file, ingest_events
from pipeline.landing.ingest import ingest_file
from pipeline.landing.remove_week import remove_landed_week
from pipeline.warehouse.contract import markdown_table
from pipeline.warehouse.ports import Services
from pipeline.warehouse.tables import snapshots_document, table
from tools.aws import executions as aws_executions
from tools.aws.stack import fill_from_stack
from tools.cli import doctor as doctor_checks
from tools.cli.terminal import RunProgress, metrics_line, realized_line, summary_table
from tools.synthetic.panel import land_synthetic_panel
from tools.synthetic.sparse_events import HISTORY_DAYS, sparse_event_log, write_event_log

PROG = "engagement-pipeline"
EXIT_INTERRUPTED = 130  # what a shell reports for a process ended by Ctrl-C
# Piped output (CI logs, `| tee`) gets wide lines rather than rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
app = typer.Typer(name=PROG, help=__doc__, add_completion=False, no_args_is_help=True,
                  pretty_exceptions_enable=False)


class Target(str, Enum):
    local = "local"
    aws = "aws"


TargetOption = Annotated[Optional[Target], typer.Option(
    "--target", help="local (this machine) or aws (the deployed stack); default: $PIPELINE_RUNTIME, else local")]


def runtime() -> str:
    name = os.environ.get("PIPELINE_RUNTIME", "local")
    if name not in ("local", "aws"):
        raise ConfigError(f"PIPELINE_RUNTIME must be 'local' or 'aws', got {name!r}")
    return name


DATA = ("PIPELINE_BUCKET",)
EXECUTIONS = ("PIPELINE_STATE_MACHINE_ARN",)
ASSISTANT_WORKGROUP = "ASSISTANT_WORKGROUP"


def use_target(target: Target | None, needed: tuple[str, ...] = DATA) -> None:
    """--target wins over $PIPELINE_RUNTIME; on AWS, a `needed` setting the environment lacks comes from the stack."""
    if target:
        os.environ["PIPELINE_RUNTIME"] = target.value
    if runtime() == "aws":
        import boto3  # only the AWS target needs it

        fill_from_stack(boto3.client("cloudformation"), needed)


def edge_services() -> Services:
    """The services PIPELINE_RUNTIME names: the local stand-ins, or S3, Glue and Athena."""
    if runtime() == "local":
        return install_local_host()
    from pipeline.aws import aws_services  # boto3 and awswrangler load only for AWS

    return aws_services(load_settings())


def _iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"expected a date YYYY-MM-DD, got {value!r}") from None


PositiveInt = Annotated[int, typer.Option(min=1)]


@app.command()
def generate(customers: PositiveInt = 100_000, weeks: PositiveInt = 12, seed: int = 7,
             if_missing: Annotated[bool, typer.Option(
                 help="keep data already landed (the same panel, or your own ingested weeks)")] = False,
             force: Annotated[bool, typer.Option(help="replace weeks you ingested with synthetic ones")] = False,
             sparse: Annotated[bool, typer.Option(
                 help="the sparse-purchase world instead (most customers buy 1-5 times in two years), as an event "
                      "log landed through ingest-events")] = False,
             events: Annotated[Optional[Path], typer.Option(
                 help="with --sparse: write the event log here (.csv or .parquet) and its mapping file beside it, "
                      "and land nothing")] = None,
             history_days: Annotated[int, typer.Option(
                 min=7, help="with --sparse: days of purchase history before the first week")] = HISTORY_DAYS,
             target: TargetOption = None) -> None:
    """Land a seeded synthetic panel of weekly snapshots through the same validation as ingest, or (--sparse) the
    sparse-purchase world as an event log through ingest-events."""
    use_target(target)
    if events and not sparse:
        raise typer.BadParameter("only the sparse-purchase world is generated as events: add --sparse")
    if sparse:
        return _generate_sparse(customers, weeks, seed, history_days, events)
    with console.status("generating synthetic weekly snapshots") as status:
        outcome = land_synthetic_panel(edge_services(), customers, weeks, seed, if_missing=if_missing, force=force,
                                       progress=lambda week: status.update(f"landed week {week}"))
    console.print(outcome)


def _generate_sparse(customers: int, weeks: int, seed: int, history_days: int, events: Path | None) -> None:
    log = sparse_event_log(customers, weeks, seed, history_days)
    with tempfile.TemporaryDirectory(prefix="sparse-") as scratch:
        path = events or Path(scratch) / "events.parquet"
        mapping = write_event_log(log, path)
        if events:
            console.print(f"wrote {log.num_rows:,} events of {customers:,} customers to {escape(str(path))}, and "
                          f"their mapping to {escape(str(mapping))}: land them with `{PROG} ingest-events "
                          f"{escape(str(path))} --mapping {escape(str(mapping))}`", soft_wrap=True, highlight=False)
            return
        with console.status(f"landing {log.num_rows:,} events and building their weeks"):
            landed = ingest_events(edge_services(), path, read_mapping(mapping))
    console.print(f"generated {customers:,} sparse-purchase customers (seed {seed}): {landed.events:,} events, "
                  f"{len(landed.weeks)} weekly snapshots", highlight=False)


SnapshotDate = Annotated[dt.date, typer.Option(parser=_iso_date, metavar="YYYY-MM-DD")]


@app.command()
def ingest(file: Path, snapshot_date: SnapshotDate, target: TargetOption = None,
           force: Annotated[bool, typer.Option(
               help="land a date off the landed weeks' weekly cycle (runs whose window holds it will fail)")] = False,
           ) -> None:
    """Validate your own weekly CSV/Parquet against the contract and land it (re-ingesting a week replaces it; the
    replaced files are kept for RETIRED_FILES_DAYS)."""
    use_target(target)
    rows, location, notes = ingest_file(edge_services(), file, snapshot_date, force=force)
    for note in notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    console.print(f"landed {rows:,} rows for snapshot {snapshot_date} at {escape(location)}", soft_wrap=True)


@app.command("ingest-events")
def ingest_event_log(
        file: Annotated[str, typer.Argument(help="the event log, CSV (with a header) or Parquet: a path or s3://…")],
        mapping: Annotated[Path, typer.Option(help="the mapping file (TOML): which column is what, the time zone, "
                                                   "which event types count as what (README)")],
        target: TargetOption = None) -> None:
    """Land an event log (customer, time, type, amount, …) and build the contract's weekly snapshots it covers,
    each as of its cut-off; a late event rebuilds its weeks. A file with a bad row lands nothing."""
    use_target(target)
    services, event_mapping = edge_services(), read_mapping(mapping)
    with event_log_file(file) as path:
        landed = ingest_events(services, path, event_mapping)
    for note in landed.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    console.print(f"landed {landed.events:,} events ({landed.ignored:,} of ignored types left out) at "
                  f"{escape(landed.location)}", soft_wrap=True, highlight=False)
    for week, customers in landed.weeks:
        console.print(f"built snapshot {week}: {customers:,} customers", highlight=False)


@app.command()
def remove_week(snapshot_date: SnapshotDate, target: TargetOption = None) -> None:
    """Take a wrongly landed week (an off-cycle date, the wrong file) out of engagement.snapshots; its files are
    kept in retention for RETIRED_FILES_DAYS, then removed (ingest the file again to bring the week back)."""
    use_target(target)
    services = edge_services()
    retirement = remove_landed_week(services, snapshot_date)
    console.print(f"removed snapshot {snapshot_date} from engagement.snapshots", highlight=False)
    if retirement is None:
        console.print("its folder was registered by hand, outside the pipeline's own: left as it was")
        return
    days = services.settings.retired_files_days
    console.print(f"its files are kept at {escape(services.storage.uri(retirement.folder))} until "
                  f"{doctor_checks.utc(retirement.kept_until(days))} (RETIRED_FILES_DAYS={days}); then the next "
                  f"ingest or `{PROG} doctor --repair` removes them", soft_wrap=True, highlight=False)


@app.command()
def run(run_date: Annotated[Optional[dt.date], typer.Option(
            parser=_iso_date, metavar="YYYY-MM-DD", help="the week to run (default: the newest snapshot)")] = None,
        churn_horizon_weeks: Annotated[Optional[int], typer.Option(min=1)] = None,
        target: TargetOption = None,
        rerun: Annotated[bool, typer.Option(help="AWS: start the week again although an execution of it exists")
                         ] = False,
        follow: Annotated[bool, typer.Option(help="AWS: report each state until the execution ends")] = True,
        poll_seconds: Annotated[float, typer.Option(min=0.05, hidden=True)] = 5.0) -> None:
    """Execute the weekly state machine (statemachine/pipeline.asl.json): on this machine, or with --target aws
    as an execution of the deployed one, named after its week (week-YYYY-MM-DD), followed to the end."""
    use_target(target, DATA + EXECUTIONS)
    execution_input = {key: value for key, value in (("run_date", run_date and run_date.isoformat()),
                                                     ("churn_horizon_weeks", churn_horizon_weeks)) if value}
    if runtime() == "aws":
        week = run_date or _newest_landed_week(edge_services())
        executions = _aws_executions()
        arn = executions.start(week, execution_input | {"run_date": week.isoformat()}, rerun=rerun)
        console.print(f"started {arn}", soft_wrap=True, highlight=False)
        if follow:
            _follow_on_aws(executions, arn, poll_seconds)
        return
    _execute_and_report(edge_services(), new_record(execution_input), redrive=None)


def _newest_landed_week(services: Services) -> dt.date:
    weeks = landed_weeks(services)
    if not weeks:
        raise PipelineError("no snapshot has landed: ingest one first (`ingest FILE --snapshot-date …`)")
    return weeks[-1]


def _aws_executions() -> aws_executions.Executions:
    import boto3

    return aws_executions.Executions.from_environment(boto3.session.Session())


def _follow_on_aws(executions: aws_executions.Executions, arn: str, poll_seconds: float) -> None:
    description = executions.follow(arn, lambda line: console.print(line, soft_wrap=True, highlight=False),
                                    poll_seconds)
    name, status = description["name"], description["status"]
    if status == "SUCCEEDED":
        console.print(f"execution {name} succeeded")
        return
    err_console.print(f"[red]execution {name} {status}[/]: {escape(description.get('error', ''))}: "
                      f"{escape(root_cause(description.get('cause', '')))}", soft_wrap=True, highlight=False)
    err_console.print(f"published results were left as they were; once the cause is fixed, continue it with "
                      f"`{PROG} redrive {name} --target aws`")
    raise typer.Exit(1)


@app.command()
def redrive(execution: Annotated[str, typer.Argument(help="the name of a failed execution, as `runs` lists it")],
            target: TargetOption = None,
            follow: Annotated[bool, typer.Option(help="report each state until the execution ends")] = True,
            poll_seconds: Annotated[float, typer.Option(min=0.05, hidden=True)] = 5.0) -> None:
    """AWS: continue a failed execution from the state that failed (RedriveExecution), then follow it.
    (Locally, `resume` does the same.)"""
    use_target(target, EXECUTIONS)
    if runtime() != "aws":
        raise ConfigError(f"`redrive` continues an execution on AWS (--target aws); locally use `{PROG} resume`")
    executions = _aws_executions()
    arn = executions.redrive(execution)
    console.print(f"redriven {arn}", soft_wrap=True, highlight=False)
    if follow:
        _follow_on_aws(executions, arn, poll_seconds)


@app.command()
def resume(execution: Annotated[str, typer.Argument(help="the name of a failed execution, as `runs` lists it")]
           ) -> None:
    """Continue a failed run from the state that failed, with the outputs of the states before it (as AWS's
    RedriveExecution does): Cleanup, PrepareData and Training are not run again if they had succeeded."""
    _require_local(f"`resume` continues a local execution; on AWS: `{PROG} redrive {execution} --target aws`")
    services = edge_services()
    record, redrive = resumable(services, execution)
    _execute_and_report(services, record, redrive)


@app.command()
def backfill(start: Annotated[dt.date, typer.Option("--from", parser=_iso_date, metavar="YYYY-MM-DD")],
             end: Annotated[dt.date, typer.Option("--to", parser=_iso_date, metavar="YYYY-MM-DD")],
             force: Annotated[bool, typer.Option(help="run weeks already published again")] = False) -> None:
    """Run every landed week from --from to --to, oldest first, skipping weeks already published (unless
    --force); stops at the first week that fails, so running it again picks up there."""
    _require_local(f"`backfill` runs the state machine locally; on AWS start each week with "
                   f"`{PROG} run --target aws --run-date YYYY-MM-DD`")
    services = edge_services()
    weeks = [week for week in landed_weeks(services) if start <= week <= end]
    if not weeks:
        raise PipelineError(f"no landed week between {start} and {end}")
    published = services.catalog.partitions(table("model_metrics"))
    to_run = [week for week in weeks if force or week.isoformat() not in published]
    if skipped := len(weeks) - len(to_run):
        console.print(f"{skipped} week(s) already published, skipped (--force runs them again)")
    for week in to_run:
        try:
            _execute_and_report(services, new_record({"run_date": week.isoformat()}), redrive=None)
        except typer.Exit:
            err_console.print(f"backfill stopped at {week}: {len(to_run) - to_run.index(week) - 1} later week(s) "
                              "not run; once fixed, run the same backfill again (published weeks are skipped)")
            raise
    console.print(f"backfill done: {len(to_run)} week(s) run, {skipped} skipped")


def _require_local(what_to_do_on_aws: str) -> None:
    if runtime() != "local":
        raise ConfigError(what_to_do_on_aws)


def _execute_and_report(services: Services, record: dict, redrive: Redrive | None) -> None:
    where = f"from {redrive.state}" if redrive else f"input {json.dumps(record['input'])}"
    console.print(f"execution {record['execution_name']} of statemachine/pipeline.asl.json, {where}", soft_wrap=True)
    with RunProgress(console) as progress:
        outcome = supervise(services, record, redrive, on_event=progress)
    if outcome.status == INTERRUPTED:
        err_console.print(f"[red]run interrupted[/] after {outcome.record['duration_seconds']}s; published results "
                          "were left as they were, and the week was given back. Start it again at any time.")
        raise typer.Exit(EXIT_INTERRUPTED)
    if outcome.failure:
        _print_failure(outcome.record, outcome.failure)
        raise typer.Exit(1)
    _print_summary(outcome)


def _print_failure(record: dict, failure: ExecutionFailed) -> None:
    err_console.print(f"[red]run failed[/] in {record['failed_state']} after {record['duration_seconds']}s: "
                      f"{failure.error}: {escape(root_cause(failure.cause))}", soft_wrap=True, highlight=False)
    err_console.print(f"published results were left as they were; details: `{PROG} runs`; once the cause is "
                      f"fixed, continue it with `{PROG} resume {record['execution_name']}`")


def _print_summary(outcome: Outcome) -> None:
    output, metrics = outcome.output, outcome.metrics
    run_date = output["run"]["run_date"]
    console.print(summary_table(outcome.finished, output, metrics))
    # soft_wrap: paths and the query must stay copy-pasteable, whatever the terminal width.
    console.print(metrics_line(metrics), soft_wrap=True)
    console.print(realized_line(metrics, output["published"].get("realized_auc")), soft_wrap=True)
    console.print(f"Run {run_date} succeeded in {outcome.record['duration_seconds']}s. Results: engagement.predictions "
                  f"(partition run_date={run_date}) at {escape(output['published']['predictions_location'])}",
                  soft_wrap=True)
    if report := output["published"].get("report_location"):
        console.print(f"Run report (HTML, opens offline): {escape(report)}", soft_wrap=True, highlight=False)
    console.print(f"Next, try:\n  {_command_prefix()} query "
                  "\"SELECT risk_band, count(*) AS customers, round(avg(churn_probability), 3) AS avg_probability "
                  f"FROM engagement.predictions WHERE run_date = DATE '{run_date}' GROUP BY risk_band "
                  "ORDER BY avg_probability DESC\"", soft_wrap=True, highlight=False)


def _command_prefix() -> str:
    """How to call this command again from here: the virtualenv's script, unless it is on PATH."""
    script = Path(sys.executable).with_name(PROG)
    return PROG if not script.exists() or os.environ.get("VIRTUAL_ENV") else os.path.relpath(script)


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


def _parameter(text: str) -> tuple[str, str | int | float]:
    """NAME=VALUE; a VALUE that reads as a number is bound as one (LIMIT :top_n), any other as a string."""
    name, separator, value = text.partition("=")
    if not separator or not name.isidentifier():
        raise typer.BadParameter(f"expected NAME=VALUE, got {text!r}")
    for kind in (int, float):
        try:
            return name, kind(value)
        except ValueError:
            pass
    return name, value


@app.command()
def query(sql: Annotated[Optional[str], typer.Argument(help="the SQL text (or --file)")] = None,
          file: Annotated[Optional[Path], typer.Option(help="a .sql file, such as athena_sql/queries/*.sql")] = None,
          param: Annotated[Optional[list[str]], typer.Option(
              metavar="NAME=VALUE", help="bound to :NAME in the SQL (repeat for each parameter)")] = None,
          format: Format = Format.table, target: TargetOption = None,
          explain: Annotated[bool, typer.Option(
              help="locally: print DuckDB's plan, with the files each scan read, instead of the rows")] = False,
          ) -> None:
    """Athena SQL over the engagement tables (answered by Athena with --target aws, locally by DuckDB, read-only:
    one SELECT, no file outside the data directory)."""
    if (sql is None) == (file is None):
        raise typer.BadParameter("give the SQL text or --file, one of the two")
    use_target(target)
    text, params = file.read_text() if file else sql, dict(map(_parameter, param or []))
    if explain:
        _require_local("--explain is local (on Athena: EXPLAIN ANALYZE in the query editor)")
        sys.stdout.write(edge_services().sql.explain(text, params) + "\n")  # as DuckDB draws it, unwrapped
        return
    result = edge_services().sql.query(text, params)
    if format is Format.csv:
        sys.stdout.write(result.to_pandas().to_csv(index=False))
    elif format is Format.json:
        sys.stdout.writelines(json.dumps(row, default=str) + "\n" for row in result.to_pylist())
    else:
        table = Table(*result.column_names)
        for row in result.to_pylist():
            table.add_row(*("" if value is None else str(value) for value in row.values()))
        console.print(table)


@app.command()
def ask(question: Annotated[Optional[str], typer.Argument(help="a question about the results, in plain words")] = None,
        eval_file: Annotated[Optional[Path], typer.Option(
            "--eval", help="grade the model on these questions with gold SQL (JSON lines, e.g. "
                           "athena_sql/assistant/questions.jsonl) instead")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="the answer (or the grades) as JSON")] = False,
        target: TargetOption = None) -> None:
    """Ask the results in plain language: a model writes read-only SQL, the guard checks it and the engine runs
    it (the model: ASSISTANT_BASE_URL and ASSISTANT_MODEL for a local server, or BEDROCK_MODEL_ID)."""
    from pipeline.assistant.loop import Assistant, EngineRunner
    from tools.cli import ask as ask_cli

    if (question is None) == (eval_file is None):
        raise typer.BadParameter("give a question or --eval FILE, one of the two")
    use_target(target, (*DATA, ASSISTANT_WORKGROUP))
    if runtime() == "aws":  # the assistant's workgroup: each query cancelled past its bytes cutoff
        if not os.environ.get(ASSISTANT_WORKGROUP):
            raise ConfigError("the stack has no assistant workgroup (deployed before `ask`?): deploy it again, or "
                              f"set {ASSISTANT_WORKGROUP}")
        os.environ["ATHENA_WORKGROUP"] = os.environ[ASSISTANT_WORKGROUP]
    run = EngineRunner(edge_services().sql)
    assistant = Assistant(ask_cli.configured_model(), run)
    if eval_file:
        _grade(assistant, run, eval_file, as_json)
        return
    answer = assistant.ask(question)
    if as_json:
        sys.stdout.write(json.dumps(answer.to_json()) + "\n")
    else:
        ask_cli.print_answer(console, answer)
    if not answer.answered:
        raise typer.Exit(1)


def _grade(assistant, run, eval_file: Path, as_json: bool) -> None:
    from tools.cli import ask_eval

    questions = ask_eval.read_questions(eval_file)
    graded = []
    for number, question in enumerate(questions, start=1):
        graded.append(ask_eval.grade(assistant, run, question))
        if not as_json:
            mark = "[green]right[/]" if graded[-1].right else "[red]miss[/]"
            console.print(f"{number:>3}/{len(questions)} {mark} {escape(question.question)}", highlight=False)
    result = ask_eval.report(graded, assistant.model.name)
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    ask_eval.print_report(console, result)


@app.command()
def runs(target: TargetOption = None,
         limit: Annotated[int, typer.Option(min=1, help="AWS: the newest executions to list")] = 20) -> None:
    """Past runs with status, duration, AUC and error (on AWS: the state machine's executions)."""
    use_target(target, EXECUTIONS)
    if runtime() == "aws":
        _print_aws_runs(_aws_executions(), limit)
        return
    records = past_runs(edge_services().storage)
    table = Table()
    for column in ("run_date", "status", "seconds", "holdout AUC", "realized AUC", "failed in", "execution"):
        table.add_column(column, no_wrap=True)
    for record in records:
        auc, realized = (f"{record[name]:.4f}" if record.get(name) is not None else "" for name in ("auc",
                                                                                                 "realized_auc"))
        if record["status"] == "SUCCEEDED" and not realized:
            realized = "none yet"  # no scores published a horizon before its week
        table.add_row(record.get("run_date") or "", record["status"], str(record.get("duration_seconds", "")), auc,
                      realized, record.get("failed_state", ""), record["execution_name"])
    console.print(table)
    for record in records:
        if record.get("error"):
            console.print(f"{record['execution_name']}: {escape(record['error'])}: "
                          f"{escape(root_cause(record.get('cause', '')))}", soft_wrap=True, highlight=False)


def _print_aws_runs(executions: aws_executions.Executions, limit: int) -> None:
    table = Table()
    for column in ("execution", "status", "started", "seconds", "redrives"):
        table.add_column(column, no_wrap=True)
    listed = executions.listing(limit)
    for execution in listed:
        stopped = execution.get("stopDate")
        seconds = f"{(stopped - execution['startDate']).total_seconds():.0f}" if stopped else ""
        table.add_row(execution["name"], execution["status"], execution["startDate"].isoformat(timespec="seconds"),
                      seconds, str(execution.get("redriveCount", 0)))
    console.print(table)
    for execution in listed:
        if execution["status"] in ("FAILED", "TIMED_OUT", "ABORTED"):
            described = executions.find(execution["name"])
            console.print(f"{execution['name']}: {escape(described.get('error', ''))}: "
                          f"{escape(root_cause(described.get('cause', '')))}", soft_wrap=True, highlight=False)


@app.command()
def doctor(repair: Annotated[bool, typer.Option(
               help="re-point the catalog at the publication records (rebuilding a lost one) and remove orphans")
           ] = False,
           discard_resumable: Annotated[bool, typer.Option(
               help="with --repair: also remove the work of failed runs that could still be resumed (they then "
                    "cannot be)")] = False,
           target: TargetOption = None) -> None:
    """Check the catalog against storage: partitions behind their records, damaged or changed files, orphans.
    Exits 1 while a problem is left."""
    use_target(target)
    if discard_resumable and not repair:
        raise typer.BadParameter("--discard-resumable goes with --repair")
    services = edge_services()
    findings = doctor_checks.examine(services, discard_resumable)
    kept = doctor_checks.in_retention(services)
    if not discard_resumable:
        kept += doctor_checks.resumable_work(services)
    left = doctor_checks.repair(findings) if repair else findings
    for finding in findings:
        done = repair and finding not in left
        mark = "[green]repaired[/]" if done else "[yellow]problem[/]"
        console.print(f"{mark} {escape(finding.problem)}; {'done' if done else 'repair'}: {escape(finding.repair)}",
                      soft_wrap=True, highlight=False)
    for note in kept:
        console.print(f"[cyan]kept[/] {escape(note)}", soft_wrap=True, highlight=False)
    fixable = sum(1 for finding in left if finding.fix)
    console.print(f"{len(findings)} finding(s), {len(findings) - len(left)} repaired, {len(left)} left"
                  + (f" ({fixable} repaired by `{PROG} doctor --repair`)" if fixable else ""))
    if left:
        raise typer.Exit(1)


@app.command()
def serve(host: Annotated[str, typer.Option(help="the address to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option(min=0, max=65535, help="0: any free port (printed)")] = 8080,
          rate: Annotated[float, typer.Option(min=0.001, help="requests a second per API key")] = 1000.0,
          burst: Annotated[int, typer.Option(min=1, help="requests at once per API key")] = 2000,
          max_requests: Annotated[Optional[int], typer.Option(min=1, help="stop after this many requests")] = None,
          max_seconds: Annotated[Optional[float], typer.Option(min=0.1, help="stop after this long")] = None) -> None:
    """The serving API over HTTP on this machine: the published scores by customer, from the local store the weekly
    run loads, and POST /v1/ask with the model `ask` uses (the routes: README, "The API"). Clients send the API key
    in x-api-key."""
    _require_local("call the deployed API Gateway (its URL and keys are in the stack's outputs)")
    # Here, not at the top: the router's library is loaded by this command only, not by every other one
    from local_runtime.api_server import KEY_FILE, Gateway, Resources, api_key
    from local_runtime.api_server import serve as run_server
    from pipeline.assistant.api import AssistantApi
    from pipeline.serving.api import ServingApi
    from pipeline.serving.what_if import WhatIf

    services = install_local_host()
    what_if = WhatIf(lambda: services.storage, services.settings.what_if_cache_seconds)  # one model for all threads
    key, generated = api_key(local_home())
    if generated:
        console.print(f"API key (generated, kept in {local_home() / KEY_FILE}; shown once): {key}", soft_wrap=True,
                      highlight=False)

    def ready(address: tuple[str, int]) -> None:
        console.print(f"serving http://{address[0]}:{address[1]}/v1/health", soft_wrap=True, highlight=False)

    def assistant():
        from pipeline.assistant.loop import Assistant, EngineRunner
        from tools.cli.ask import configured_model

        return Assistant(configured_model(), EngineRunner(services.sql))

    run_server(lambda: Resources(ServingApi(lambda: services.serving, lambda: what_if), AssistantApi(assistant)),
               Gateway(key, rate, burst), host, port, max_requests, max_seconds, on_ready=ready)


@app.command()
def contract(glue: Annotated[bool, typer.Option(help="the Glue table definition as JSON")] = False) -> None:
    """The input contract as Markdown (or the Glue table JSON)."""
    print(json.dumps(snapshots_document(), indent=2) if glue else markdown_table())


def main(argv: list[str] | None = None) -> int:
    """The console script: the exit status (0 done, 1 a failed run, 2 bad arguments or a pipeline error, 130
    interrupted: typer turns Ctrl-C into that exit, `run` records the run first)."""
    try:
        app(args=argv, prog_name=PROG)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    except (PipelineError, FileNotFoundError) as error:
        err_console.print(f"[red]error:[/] {escape(str(error))}", highlight=False)
        return 2
    except OSError as error:  # a full disk, a read-only or vanished folder: the machine's fault, not the data's
        where = f" ({error.filename})" if error.filename else ""
        err_console.print(f"[red]error:[/] {escape(str(error.strerror or error) + where)}; nothing was published, and "
                          "what was published before is unchanged", highlight=False)
        return 2
    return 0


if __name__ == "__main__":  # python -m tools.cli.app, as the console script
    sys.exit(main())
