"""Structured logs: one logger per module (`logging.getLogger(__name__)`), JSON lines that carry the run.

The standard library rather than Powertools' Logger: one formatter serves the Lambda functions and the Fargate
tasks alike, records of every library (botocore, awswrangler) come out in the same shape, and neither image
grows. Each line carries the fields bound for the run (`run_date`, `execution_name`, the Lambda request id).
A line that cannot be written (a full disk) is dropped quietly: logging never fails a task, nor buries its end.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import sys
from contextlib import contextmanager
from typing import Iterator, TextIO

_bound_fields: contextvars.ContextVar[dict[str, object]] = contextvars.ContextVar("bound_fields", default={})
_RECORD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document = {
            "timestamp": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_bound_fields.get(),
            **{key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES},
        }
        if record.exc_info:
            document["traceback"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)


class DropsUnwritableLines:
    """For a logging.Handler: a line its stream cannot take (a full disk, a closed pipe) is dropped, and so is the
    final flush of such lines. logging's own handleError would print a traceback per line (`--- Logging error
    ---`), burying the one line that says why."""

    def handleError(self, record: logging.LogRecord) -> None:
        if not isinstance(sys.exc_info()[1], OSError):
            super().handleError(record)  # a bug in a log call: shown, as logging shows it

    def close(self) -> None:
        try:
            super().close()
        except OSError:
            pass  # the flush of lines the disk refused: they are lost with it


class QuietStreamHandler(DropsUnwritableLines, logging.StreamHandler):
    """A StreamHandler that drops the lines it cannot write."""


class QuietFileHandler(DropsUnwritableLines, logging.FileHandler):
    """A FileHandler that drops the lines it cannot write."""


def configure_json_logging(stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """Every record of the process as one JSON line on `stream`, by default stdout (which CloudWatch takes on
    Lambda and ECS)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = QuietStreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)


def bind(**fields: object) -> None:
    """Add fields to every later line of this invocation (inside `bound_fields`)."""
    _bound_fields.set({**_bound_fields.get(), **fields})


@contextmanager
def bound_fields(**fields: object) -> Iterator[None]:
    token = _bound_fields.set({**_bound_fields.get(), **fields})
    try:
        yield
    finally:
        _bound_fields.reset(token)
