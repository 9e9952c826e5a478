from pipeline.storage import write_json
from tools.run_records import past_runs, record_run


def test_runs_are_listed_in_start_order_without_failure_records(services):
    record_run(services.storage, "b", {"execution_name": "b", "started": "2026-03-02T07:00:00", "status": "FAILED"})
    record_run(services.storage, "a", {"execution_name": "a", "started": "2026-03-02T06:00:00", "status": "SUCCEEDED"})
    write_json(services.storage, "runs/failures/b.json", {"execution_name": "b", "error": "X"})
    assert [run["execution_name"] for run in past_runs(services.storage)] == ["a", "b"]
