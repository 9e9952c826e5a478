"""The CLI's record of each local execution (status, durations, AUC, error), listed by `runs`."""
from __future__ import annotations

from pipeline.keys import RUNS_PREFIX, run_record_key
from pipeline.ports import Storage
from pipeline.storage import read_json, write_json


def record_run(storage: Storage, execution_name: str, record: dict) -> None:
    write_json(storage, run_record_key(execution_name), record)


def past_runs(storage: Storage) -> list[dict]:
    # One record per execution at the top level; runs/failures/ holds RecordFailure's own records.
    keys = [key for key in storage.list_keys(RUNS_PREFIX) if key.endswith(".json") and key.count("/") == 1]
    return sorted((read_json(storage, key) for key in keys), key=lambda run: run.get("started", ""))
