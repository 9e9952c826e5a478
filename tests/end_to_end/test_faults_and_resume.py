"""Faults injected into the weekly run (PIPELINE_FAULTS): a transient one is retried, a permanent one leaves the
published week as it was, and `resume` completes the run without running the states that had succeeded."""
import hashlib

import pytest

from local_runtime.duckdb_engine import DuckDbEngine
from local_runtime.launcher import execute_locally
from local_runtime.run_records import past_runs
from pipeline.warehouse.sql import parse_unload
from tests.conftest import week
from tools.cli.app import main
from tools.synthetic.panel import land_synthetic_panel

CUSTOMERS, WEEKS = 1500, 9


@pytest.fixture
def panel(services, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)  # Retry intervals: not waited for here
    land_synthetic_panel(services, CUSTOMERS, WEEKS, seed=11, if_missing=False)
    return services


def published_files(services) -> dict[str, str]:
    keys = [key for prefix in ("results/", "models/") for key in services.storage.list_keys(prefix)]
    return {key: hashlib.sha256(services.storage.read_bytes(key)).hexdigest() for key in keys}


def test_a_transient_failure_in_training_is_retried_and_the_run_succeeds(panel, monkeypatch):
    monkeypatch.setenv("PIPELINE_FAULTS", "Training:once")
    events = []
    result = execute_locally({}, execution_name="flaky", on_event=events.append)
    assert result.status == "SUCCEEDED"
    assert [event.status for event in events if event.name == "Training" and event.status != "started"] == [
        "retried", "succeeded"]


def test_a_permanent_failure_in_inference_keeps_the_week_and_resume_completes_it(panel, monkeypatch, capsys):
    run_date = week(WEEKS).isoformat()
    assert main(["run", "--run-date", run_date]) == 0
    before = published_files(panel)

    monkeypatch.setenv("PIPELINE_FAULTS", "InferenceShard:always")
    assert main(["run", "--run-date", run_date]) == 1
    assert "run failed in Inference" in capsys.readouterr().err
    failed = past_runs(panel.storage)[-1]
    assert failed["status"] == "FAILED" and failed["failed_state"] == "Inference"
    assert "fault injected in InferenceShard" in failed["cause"]
    assert {key: digest for key, digest in published_files(panel).items() if key in before} == before
    assert panel.storage.list_keys("locks/") == []  # its week given back

    monkeypatch.delenv("PIPELINE_FAULTS")
    assert main(["resume", failed["execution_name"]]) == 0
    out = capsys.readouterr().out
    assert f"execution {failed['execution_name']} of statemachine/pipeline.asl.json, from Inference" in out
    resumed = past_runs(panel.storage)[-1]
    assert resumed["execution_name"] == failed["execution_name"] and resumed["status"] == "SUCCEEDED"
    assert list(resumed["states"]) == ["Inference", "Publish", "Done"]  # Cleanup, PrepareData, Training not again
    assert main(["query", "SELECT count(*) AS n, count(DISTINCT model_version) AS models FROM "
                 "engagement.predictions", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["n,models", f"{CUSTOMERS},1"]
    attempts = panel.sql.query("SELECT attempt, status, failed_state, error, inference_seconds, cleanup_seconds "
                               "FROM engagement.runs WHERE execution_name = :name ORDER BY attempt",
                               {"name": failed["execution_name"]}).to_pylist()
    assert [(row["attempt"], row["status"], row["failed_state"]) for row in attempts] == [
        (0, "FAILED", "Inference"), (1, "SUCCEEDED", None)]
    assert attempts[0]["error"] == failed["error"] and attempts[0]["inference_seconds"] > 0
    # one history across the redrive: the resumed attempt still knows how long the first one's Cleanup took
    assert attempts[1]["cleanup_seconds"] == attempts[0]["cleanup_seconds"]


def test_only_a_failed_run_can_be_resumed(panel, capsys):
    assert main(["run"]) == 0
    done = past_runs(panel.storage)[-1]["execution_name"]
    assert main(["resume", done]) == 2
    assert f"execution {done} cannot be resumed (SUCCEEDED)" in capsys.readouterr().err


def test_an_unload_that_fails_half_way_is_resumed_into_a_folder_of_its_own(panel, monkeypatch, capsys):
    """Athena's UNLOAD needs an empty folder, and a failed one can leave files behind: the resumed PrepareFeatures
    (a new attempt, $$.Execution.RedriveCount 1; its UNLOAD is the run's first) writes attempt=1/, and KeepFeatures
    reads that one."""
    original = DuckDbEngine.run_unload
    failures = []

    def fails_once_half_way(engine, statement):
        if not failures:
            _, location, _ = parse_unload(statement)
            engine.storage.write_bytes(engine.storage.key_of(location) + "half-written", b"not parquet")
            failures.append(location)
            raise RuntimeError("HIVE_CURSOR_ERROR: the query was cancelled half way")
        return original(engine, statement)

    monkeypatch.setattr(DuckDbEngine, "run_unload", fails_once_half_way)
    assert main(["run", "--run-date", week(WEEKS).isoformat()]) == 1
    failed = past_runs(panel.storage)[-1]
    assert failed["failed_state"] == "PrepareFeatures" and "HIVE_CURSOR_ERROR" in failed["cause"]
    assert failures[0].endswith("/attempt=0/")

    assert main(["resume", failed["execution_name"]]) == 0
    resumed = past_runs(panel.storage)[-1]
    assert list(resumed["states"]) == ["PrepareFeatures", "PrepareSets", "Training", "Inference", "Publish", "Done"]
    assert resumed["redrive_count"] == 1
    assert main(["query", "SELECT count(*) AS n FROM engagement.predictions", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == str(CUSTOMERS)
