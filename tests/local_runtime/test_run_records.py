import subprocess
import sys

from local_runtime.run_records import past_runs, record_run, record_started
from pipeline.warehouse.objects import read_json, write_json


def test_runs_are_listed_once_each_in_start_order(services):
    record_run(services.storage, "b", {"execution_name": "b", "started": "2026-03-02T07:00:00", "status": "FAILED"})
    record_run(services.storage, "a", {"execution_name": "a", "started": "2026-03-02T06:00:00", "status": "SUCCEEDED"})
    write_json(services.storage, "runs/failures/b.json", {"execution_name": "b", "recorded_at": "2026-03-02T07:01:00",
                                                          "run": None, "error": "X", "cause": ""})
    assert [(run["execution_name"], run["status"]) for run in past_runs(services.storage)] == [
        ("a", "SUCCEEDED"), ("b", "FAILED")]


def test_a_failure_recorded_on_aws_is_listed_without_a_launcher_record(services):
    write_json(services.storage, "runs/failures/sfn-1.json", {
        "execution_name": "sfn-1", "status": "FAILED", "recorded_at": "2026-03-02T06:05:00",
        "run_date": "2026-03-02", "input": {}, "error": "DataQualityError", "cause": "missing week"})
    (run,) = past_runs(services.storage)
    assert run == {"execution_name": "sfn-1", "status": "FAILED", "started": "2026-03-02T06:05:00",
                   "run_date": "2026-03-02", "error": "DataQualityError", "cause": "missing week"}


def test_a_run_whose_process_died_unrecorded_is_listed_killed(services):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    record_started(services.storage, {"execution_name": "alive", "started": "2026-03-02T06:00:00", "input": {}})
    record_started(services.storage, {"execution_name": "gone", "started": "2026-03-02T07:00:00", "input": {}})
    gone = read_json(services.storage, "runs/gone.json")
    write_json(services.storage, "runs/gone.json", {**gone, "pid": int(dead.stdout)})
    alive, killed = past_runs(services.storage)
    assert alive["status"] == "RUNNING"  # this test's own process
    assert killed["status"] == "KILLED" and "ended without a word" in killed["cause"]



def test_a_killed_run_that_never_noted_its_week_is_listed_under_the_week_its_failure_record_gave_back(services):
    """Killed while Cleanup ran: its week was taken (and given back by RecordFailure), never noted in its record."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    record_started(services.storage, {"execution_name": "gone", "started": "2026-03-02T07:00:00", "input": {}})
    write_json(services.storage, "runs/gone.json", {**read_json(services.storage, "runs/gone.json"),
                                                    "pid": int(dead.stdout)})
    write_json(services.storage, "runs/failures/gone.json", {
        "execution_name": "gone", "status": "ABORTED", "recorded_at": "2026-03-02T07:00:05",
        "run_date": "2026-03-02", "error": "Interrupted", "cause": ""})
    (run,) = past_runs(services.storage)
    assert (run["status"], run["run_date"]) == ("KILLED", "2026-03-02")
