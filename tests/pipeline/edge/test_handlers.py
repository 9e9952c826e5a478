"""The door every handler and entrypoint goes through: parse, bind the run to the logs, call, report."""
import errno
import io
import json
import logging

import pytest

from pipeline.core.errors import DataQualityError, EventError
from pipeline.edge.handlers import EXIT_BUG, EXIT_PIPELINE_ERROR, DiskFullError, container_main, lambda_handler
from pipeline.execution.events import RunEvent

RUN = {"run_date": "2026-03-02", "churn_horizon_weeks": 4, "model_version": "v", "execution_name": "e1"}


class Context:
    function_name = "stack-PrepareDataFunction"
    aws_request_id = "req-1"


def test_a_handler_gets_the_typed_event_and_the_installed_services(services):
    seen = {}

    @lambda_handler(RunEvent, state="PrepareData")
    def handler(event, given_services):
        seen.update(event=event, services=given_services)
        return {"ok": True}

    assert handler({"run": RUN}, Context()) == {"ok": True}
    assert seen["event"].run.execution_name == "e1" and seen["event"].run.run_date.isoformat() == "2026-03-02"
    assert seen["services"].storage.root == services.storage.root


def test_a_handler_logs_its_outcome_with_the_run(services, caplog):
    @lambda_handler(RunEvent, state="PrepareData")
    def handler(event, given_services):
        logging.getLogger("tests.stage").info("working")
        raise DataQualityError("week 2026-02-16 is missing")

    with caplog.at_level(logging.INFO), pytest.raises(DataQualityError):
        handler({"run": RUN}, Context())
    working, duration, failed = caplog.records
    assert duration.StateDuration >= 0 and duration.State == "PrepareData" and duration.outcome == "failed"
    assert duration._aws["CloudWatchMetrics"][0]["Dimensions"] == [["Pipeline", "State"]]
    assert working.getMessage() == "working"
    assert failed.levelname == "ERROR" and failed.error_type == "DataQualityError"
    assert failed.getMessage() == ("stack-PrepareDataFunction failed: DataQualityError: week 2026-02-16 is missing")
    assert failed.exc_info is None  # an expected error: its message says it all


def test_a_malformed_event_is_refused_before_any_work(services):
    @lambda_handler(RunEvent, state="PrepareData")
    def handler(event, given_services):
        raise AssertionError("not reached")

    with pytest.raises(EventError, match="RunEvent: run.churn_horizon_weeks: Field required"):
        handler({"run": {key: value for key, value in RUN.items() if key != "churn_horizon_weeks"}})


@pytest.mark.parametrize("raised, code", [(None, 0), (DataQualityError("no week"), EXIT_PIPELINE_ERROR),
                                          (ZeroDivisionError("bug"), EXIT_BUG)])
def test_a_container_reports_through_its_exit_code_and_last_log_line(services, monkeypatch, capsys, raised, code):
    monkeypatch.setenv("RUN", json.dumps(RUN))
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)

    def work(run, given_services):
        if raised:
            raise raised
        return {"rows": 3}

    try:
        assert container_main(work, state="Training") == code
    finally:
        root.handlers[:], root.level = saved
    *_, duration, last = map(json.loads, capsys.readouterr().out.splitlines())
    assert last["run_date"] == "2026-03-02" and last["execution_name"] == "e1"
    assert duration["State"] == "Training" and duration["run_date"] == "2026-03-02" and "_aws" in duration
    if raised:
        assert last["error_type"] == type(raised).__name__ and last["error_message"] == str(raised)
        assert ("traceback" in last) is (code == EXIT_BUG)  # only a bug needs its traceback
    else:
        assert last["result"] == {"rows": 3}


@pytest.mark.parametrize("number, said", [(errno.ENOSPC, "the disk is full"),
                                          (errno.EDQUOT, "the disk quota is used up"),
                                          (errno.EROFS, "the disk is read-only")])
def test_a_write_the_disk_refuses_fails_a_handler_as_a_pipeline_error(services, number, said):
    @lambda_handler(RunEvent, state="Publish")
    def handler(event, given_services):
        raise OSError(number, "refused", "/data/results/part-0.parquet")

    with pytest.raises(DiskFullError, match=f"{said} \\(refused writing /data/results/part-0.parquet\\)"):
        handler({"run": RUN}, Context())


class FullDisk(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("number, code", [(errno.ENOSPC, EXIT_PIPELINE_ERROR), (errno.ECONNRESET, EXIT_BUG)])
def test_a_container_on_a_full_disk_exits_2_without_logging_errors(services, monkeypatch, capsys, number, code):
    """Its log lines go to the same full disk: they are lost quietly, and the exit code says a pipeline error (a
    reset connection is no disk's refusal: still a bug)."""
    monkeypatch.setenv("RUN", json.dumps(RUN))
    monkeypatch.setattr("sys.stdout", FullDisk())
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)

    def work(run, given_services):
        raise OSError(number, "refused", "/data/models/model.ubj")

    try:
        assert container_main(work, state="Training") == code
    finally:
        root.handlers[:], root.level = saved
    assert "--- Logging error ---" not in capsys.readouterr().err
