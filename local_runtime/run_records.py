"""The record of each execution, listed by `runs`: the CLI's own record of a local run, and RecordFailure's
record of a failed one (the only record an execution on AWS leaves, until runs are read from Step Functions)."""
from __future__ import annotations

import os

from pipeline.execution.processes import machine_id, process_gone
from pipeline.warehouse.layout import FAILURES_PREFIX, RUNS_PREFIX, run_record_key
from pipeline.warehouse.objects import read_json, write_json
from pipeline.warehouse.ports import Storage

FAILED = "FAILED"  # the one status `resume` continues
KILLED = {"status": "KILLED", "error": "Killed",
          "cause": "the process running it ended without a word (kill -9, a crash, the machine stopped)"}


def record_started(storage: Storage, record: dict) -> None:
    """A run in progress, with the process running it: if that process dies unrecorded, `runs` says KILLED."""
    write_json(storage, run_record_key(record["execution_name"]),
               {**record, "status": "RUNNING", "machine": machine_id(), "pid": os.getpid()})


def record_run(storage: Storage, execution_name: str, record: dict) -> None:
    write_json(storage, run_record_key(execution_name), record)


def _old_run_date(failure: dict) -> str | None:
    run = failure.get("run")  # records written before run_date was kept held the resolved run
    return run.get("run_date") if isinstance(run, dict) else None


def _run_date(record: dict, failure: dict) -> str | None:
    """The week in the run's own record (noted once Cleanup resolved it), else in its failure record (the week
    whose lock RecordFailure gave back: a run stopped during Cleanup), else the one it asked for."""
    return record.get("run_date") or failure.get("run_date") or (record.get("input") or {}).get("run_date")


def past_runs(storage: Storage) -> list[dict]:
    """Every execution once, oldest first: the launcher's record where there is one, else the failure record."""
    records = {}
    for key in storage.list_keys(FAILURES_PREFIX):
        failure = read_json(storage, key)
        records[failure["execution_name"]] = {  # .get: records written before status and run_date were kept
            "execution_name": failure["execution_name"], "status": failure.get("status", "FAILED"),
            "started": failure["recorded_at"], "run_date": failure.get("run_date") or _old_run_date(failure),
            "error": failure["error"],
            "cause": failure["cause"]}
    for key in storage.list_keys(RUNS_PREFIX):
        if key.count("/") == 1 and key.endswith(".json"):
            record = read_json(storage, key)
            if record["status"] == "RUNNING" and process_gone(record.get("machine"), record.get("pid", 0)):
                record |= KILLED
            record["run_date"] = _run_date(record, records.get(record["execution_name"], {}))
            records[record["execution_name"]] = record
    return sorted(records.values(), key=lambda run: run.get("started", ""))


def can_resume(record: dict) -> bool:
    """Does `resume` continue this launcher's record of a run, as RedriveExecution would: it failed, in a state to
    continue from? (Not an interrupted or killed run: the next `run` starts those again.)"""
    return record.get("status") == FAILED and "resume_from" in record


def resume_allowed(storage: Storage, execution_name: str) -> bool:
    """True unless the launcher's record of the run says `resume` will not continue it; an execution without one
    (on AWS) is redriven by Step Functions whatever stopped it."""
    try:
        return can_resume(read_json(storage, run_record_key(execution_name)))
    except FileNotFoundError:
        return True
