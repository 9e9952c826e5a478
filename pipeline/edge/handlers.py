"""The door of every Lambda handler and container entrypoint: parse what arrives into typed fields, bind the run
to the logs, call the stage with this process's services, and report the outcome the way Lambda and ECS do.

Lambda: an exception is the failure (Lambda names it by the exception's type). ECS: the exit code is the failure
(0 done, 2 a pipeline error, 1 a bug) and the last log line says why, as JSON with `error_type` and
`error_message`. A disk that refuses a write (full, over quota, read-only) is the machine's fault, not a bug: a
DiskFullError, a pipeline error.
"""
from __future__ import annotations

import errno
import functools
import json
import logging
import os
import sys
import time
from typing import Callable, TypeVar

from pydantic import BaseModel

from pipeline.core import emf, logs
from pipeline.core.errors import EventError, PipelineError
from pipeline.edge.faults import inject_fault
from pipeline.edge.host import current_services
from pipeline.execution.attempt import execution_attempt
from pipeline.execution.identity import Run, parse
from pipeline.warehouse.ports import Services

logger = logging.getLogger(__name__)
EventT = TypeVar("EventT", bound=BaseModel)
EXIT_PIPELINE_ERROR = 2
EXIT_BUG = 1
DISK_REFUSALS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
                 errno.EROFS: "the disk is read-only"}


class DiskFullError(PipelineError):
    """A write the disk refused (one of DISK_REFUSALS)."""


def run_fields(run: Run) -> dict[str, str]:
    return {"run_date": run.run_date.isoformat(), "execution_name": run.execution_name}


def lambda_handler(event_model: type[EventT], state: str | None) -> Callable:
    """Decorate `work(event, services) -> dict` into the Lambda handler `(event: dict, context) -> dict` of the
    ASL state `state` (None: no state, and so no fault injection, as for the failure recorder)."""
    def decorate(work: Callable[[EventT, Services], dict]) -> Callable[[dict, object], dict]:
        @functools.wraps(work)
        def handler(event: dict, context: object = None) -> dict:
            if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:  # in Lambda itself; a local host keeps its own logging
                logs.configure_json_logging()
            function = getattr(context, "function_name", work.__module__)
            event, attempt = _without_attempt(event)
            with logs.bound_fields(function=function, request_id=getattr(context, "aws_request_id", None),
                                   attempt=attempt), execution_attempt(attempt):
                return _call_logged(function, lambda: _handle(event_model, work, event, state), state)
        return handler
    return decorate


def _without_attempt(event: object) -> tuple[object, int]:
    """The state machine adds `redrive_count` ($$.Execution.RedriveCount) to every event: the attempt, for the
    week lock; the stage's event is the rest."""
    if isinstance(event, dict) and "redrive_count" in event:
        rest = {key: value for key, value in event.items() if key != "redrive_count"}
        return rest, _attempt_number(event["redrive_count"], "event field redrive_count")
    return event, 0


def _attempt_number(value: object, where: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number < 0:
        raise EventError(f"{where} must be a count (0, 1, ...), got {value!r}")
    return number


def _handle(event_model: type[EventT], work: Callable[[EventT, Services], dict], event: dict,
            state: str | None) -> dict:
    parsed = parse(event_model, event, event_model.__name__)
    if run := getattr(parsed, "run", None):
        logs.bind(**run_fields(run))
    services = current_services()
    if state:
        inject_fault(state, getattr(parsed, "execution_name", None) or run.execution_name, services.storage)
    return work(parsed, services)


def _call_logged(what: str, call: Callable[[], dict], state: str | None) -> dict:
    started = time.monotonic()
    try:
        result = _disk_refusals_named(call)
    except Exception as error:
        _emit_duration(state, started, "failed")
        _log_failure(what, error)  # the last line, as ECS users read a stopped task's log
        raise
    _emit_duration(state, started, "succeeded")
    logger.info("%s succeeded", what, extra={"result": result})
    return result


def _disk_refusals_named(call: Callable[[], dict]) -> dict:
    try:
        return call()
    except OSError as error:
        if error.errno not in DISK_REFUSALS:
            raise
        where = f" writing {error.filename}" if error.filename else ""
        raise DiskFullError(f"{DISK_REFUSALS[error.errno]} ({error.strerror}{where}): make room, then continue "
                            "the run") from error


def _emit_duration(state: str | None, started: float, outcome: str) -> None:
    if state:
        emf.emit({"StateDuration": (round(time.monotonic() - started, 3), "Seconds")}, {"State": state},
                     outcome=outcome)


def _log_failure(what: str, error: Exception) -> None:
    details = {"error_type": type(error).__name__, "error_message": str(error)}
    if isinstance(error, PipelineError):
        logger.error("%s failed: %s: %s", what, details["error_type"], error, extra=details)
    else:  # a bug: keep the traceback for whoever debugs it
        logger.exception("%s failed: %s: %s", what, details["error_type"], error, extra=details)


def container_run() -> Run:
    """The run a container was started for: the RUN environment variable (the state machine's override)."""
    text = required_env("RUN")
    try:
        document = json.loads(text)
    except ValueError:
        raise EventError(f"RUN environment variable: not JSON: {text[:200]!r}") from None
    return parse(Run, document, "RUN environment variable")


def required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise EventError(f"environment variable {name} is required (set by the state machine's container overrides)")
    return value


def container_main(work: Callable[[Run, Services], dict], state: str) -> int:
    """Run a container's work (the ASL state `state`) as a process: JSON logs on stdout, the outcome as the exit
    code."""
    logs.configure_json_logging()
    try:
        with logs.bound_fields():
            _call_logged(_task_name(), lambda: _run_container_work(work, state), state)
    except PipelineError:
        return EXIT_PIPELINE_ERROR
    except Exception:
        return EXIT_BUG
    return 0


def _task_name() -> str:
    """The entrypoint module `python -m` runs (`__main__` names no module)."""
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    return spec.name if spec else "task"


def _run_container_work(work: Callable[[Run, Services], dict], state: str) -> dict:
    run = container_run()
    attempt = _attempt_number(os.environ.get("REDRIVE_COUNT", "0"), "environment variable REDRIVE_COUNT")
    logs.bind(**run_fields(run), attempt=attempt)  # every later line of the task is about this run
    services = current_services()
    inject_fault(state, run.execution_name, services.storage)
    with execution_attempt(attempt):
        return work(run, services)
