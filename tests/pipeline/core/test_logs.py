"""JSON log lines that carry the run's bound fields."""
import io
import json
import logging

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
