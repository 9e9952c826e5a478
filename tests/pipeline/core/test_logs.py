"""JSON log lines that carry the run's bound fields."""
import errno
import io
import json
import logging

import pytest

from pipeline.core import logs


def capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("tests.logs")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_line_is_json_with_the_bound_fields_and_extras():
    logger, stream = capture()
    with logs.bound_fields(run_date="2026-03-02", execution_name="e1"):
        logger.info("scored %d", 5, extra={"shard": 3})
    logger.info("after")
    inside, after = lines(stream)
    assert inside["message"] == "scored 5" and inside["level"] == "INFO" and inside["logger"] == "tests.logs"
    assert inside["run_date"] == "2026-03-02" and inside["execution_name"] == "e1" and inside["shard"] == 3
    assert "run_date" not in after  # the fields end with their block


def test_bind_adds_to_the_current_block_only():
    logger, stream = capture()
    with logs.bound_fields(function="cleanup"):
        logs.bind(run_date="2026-03-02")
        logger.info("inside")
    logger.info("outside")
    inside, outside = lines(stream)
    assert inside["function"] == "cleanup" and inside["run_date"] == "2026-03-02"
    assert "function" not in outside and "run_date" not in outside


def test_an_exception_keeps_its_traceback():
    logger, stream = capture()
    try:
        raise ValueError("bad")
    except ValueError:
        logger.exception("failed")
    (line,) = lines(stream)
    assert line["level"] == "ERROR" and "ValueError: bad" in line["traceback"]


def test_configure_sends_every_record_to_one_json_stream():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    try:
        logs.configure_json_logging(stream)
        logging.getLogger("botocore.any").info("from a library")
    finally:
        root.handlers[:], root.level = saved
    assert lines(stream)[0]["logger"] == "botocore.any"


class FullDisk(io.StringIO):
    """A stream on a disk with no room left: every write is refused, as by a file on a full disk."""

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("handler", [logs.QuietStreamHandler(FullDisk()),
                                     logs.QuietFileHandler("/dev/full")])  # Linux's always-full device
def test_a_line_that_cannot_be_written_is_dropped_without_a_traceback(handler, capsys):
    logger = logging.getLogger("tests.full_disk")
    logger.handlers[:], logger.propagate = [handler], False
    logger.error("the disk is full")  # no OSError, and no `--- Logging error ---` on stderr
    handler.close()
    assert capsys.readouterr().err == ""


def test_a_log_call_with_a_bug_is_still_reported(capsys):
    logger = logging.getLogger("tests.bad_call")
    logger.handlers[:], logger.propagate = [logs.QuietStreamHandler(io.StringIO())], False
    logger.error("%d rows", "many")
    assert "--- Logging error ---" in capsys.readouterr().err  # a bug to fix, not a full disk
