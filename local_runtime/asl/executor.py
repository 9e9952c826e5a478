"""Running a loaded state machine locally, with Step Functions' data flow, retries, catches and concurrency."""
from __future__ import annotations

import functools
import json
import pathlib
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

from local_runtime.asl.definition import (
    NO_RESULT,
    ChoiceState,
    FailState,
    Graph,
    GuardedState,
    MapState,
    ParallelState,
    PassState,
    State,
    SucceedState,
    TaskState,
    WaitState,
    handles_error,
    parse_definition,
    read_document,
)
from local_runtime.asl.errors import (
    NO_CHOICE_MATCHED,
    RUNTIME,
    TASK_FAILED,
    TIMEOUT,
    ExecutionFailed,
    StateError,
    TaskFailed,
)
from local_runtime.asl.events import CAUGHT, FAILED, RETRIED, STARTED, SUCCEEDED, ExecutionResult, StateEvent
from local_runtime.asl.paths import Path
from local_runtime.asl.timestamps import format_epoch, format_timestamp, parse_timestamp, utc_now

TaskInvoker = Callable[[str, Any, dict[str, Any]], Any]
# Step Functions runs at most 40 iterations of an inline Map at once, whatever MaxConcurrency says.
_INLINE_MAP_CONCURRENCY_LIMIT = 40
_ARN_PREFIX = "arn:aws:states:local:000000000000"


def load_state_machine(definition: str | dict[str, Any] | pathlib.Path,
                       substitutions: Mapping[str, str] | None = None, *, name: str | None = None) -> StateMachine:
    """Load and fully validate a definition (JSON text, a file path, or a dict).

    Every ${Name} is replaced from `substitutions` first, as SAM's DefinitionSubstitutions does. `name` (the
    state machine name in $$.StateMachine.Name and execution ids) defaults to the file name up to its first dot.
    Raises UnsupportedConstruct naming the state and field of the first problem.
    """
    document, default_name = read_document(definition, substitutions or {})
    return StateMachine(parse_definition(document), document, name or default_name)


@dataclass(frozen=True)
class Redrive:
    """Where a failed execution continues: the top-level state that failed, the input it had, and which redrive
    this is ($$.Execution.RedriveCount: 1 for the first)."""

    state: str
    input: Any
    count: int = 1


class StateMachine:
    def __init__(self, graph: Graph, definition: dict[str, Any], name: str) -> None:
        self.graph = graph
        self.definition = definition  # after substitution
        self.name = name

    def execute(self, input: Any, invoke_task: TaskInvoker, *, execution_name: str | None = None,
                sleep: Callable[[float], None] = time.sleep,
                on_event: Callable[[StateEvent], None] | None = None,
                random_fraction: Callable[[], float] = random.random,
                redrive: Redrive | None = None) -> ExecutionResult:
        """Run to completion; raise ExecutionFailed if it ends in a Fail state or an uncaught error.

        `invoke_task(resource, parameters, context)` runs Task states; raise TaskFailed(error, cause) to fail
        with a specific error name (any other exception is States.TaskFailed). `sleep` serves Wait states and
        retry delays; `random_fraction` scales FULL-jitter retry delays. `on_event` sees every start, retry
        and end (from worker threads too, but never two calls at once). `redrive` continues a failed execution
        of this `input` from the top-level state that failed, with the input that state had, as RedriveExecution
        does (a Map or Parallel state runs again whole, not only its failed iterations).
        """
        try:
            data = _json_copy(input)
        except StateError as failure:  # StartExecution would reject it
            raise ExecutionFailed(failure.error, f"execution input: {failure.cause}", []) from None
        if redrive is not None and redrive.state not in self.graph.states:
            raise ValueError(f"cannot redrive from {redrive.state!r}: the definition has no such top-level state")
        run = _Execution(self.name, execution_name or str(uuid.uuid4()), data, invoke_task, sleep, on_event,
                         random_fraction, redrive_count=redrive.count if redrive else 0)
        graph, start_data = self.graph, run.input
        if redrive is not None:
            graph, start_data = replace(self.graph, start_at=redrive.state), _json_copy(redrive.input)
        try:
            output = run.run_graph(graph, start_data, scope="", cancel=_CancelToken())
        except StateError as failure:
            raise ExecutionFailed(failure.error, failure.cause, run.history) from None
        return ExecutionResult("SUCCEEDED", output, run.history, run.execution_id)


# --------------------------------------------------------------------------------------------- plumbing

class _Cancelled(Exception):
    """A sibling Map iteration or Parallel branch failed: stop before the next state."""


class _CancelToken:
    def __init__(self, parent: _CancelToken | None = None) -> None:
        self._event = threading.Event()
        self._parent = parent

    def cancel(self) -> None:
        self._event.set()

    def is_cancelled(self) -> bool:
        return self._event.is_set() or (self._parent is not None and self._parent.is_cancelled())


@dataclass
class _Visit:
    """One entry into a state: what it received, when, and how many retries it has made so far."""

    state: State
    raw_input: Any
    scope: str
    entered: float = field(default_factory=time.time)
    attempt_started: float = field(default_factory=time.time)
    retry_count: int = 0

    def event(self, status: str, *, ended: float | None = None, output: Any = None,
              failure: StateError | None = None) -> StateEvent:
        started = self.entered if status in (STARTED, SUCCEEDED, FAILED, CAUGHT) else self.attempt_started
        return StateEvent(self.state.name, self.state.TYPE, started, ended, status, self.raw_input, output,
                          failure.error if failure else None, failure.cause if failure else None, self.scope)


@dataclass(frozen=True)
class _Step:
    """How a state ended: its output and where to go next (None ends the graph)."""

    output: Any
    next: str | None
    caught: StateError | None = None


def _json_copy(value: Any) -> Any:
    """A deep copy with JSON semantics (tuples become lists); rejects what Step Functions could not carry."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise StateError(RUNTIME, f"value is not JSON-serializable: {error}") from None


def _select_input(state: State, raw_input: Any) -> Any:
    return {} if state.input_path is None else state.input_path.read(raw_input)


def _select_output(state: State, data: Any) -> Any:
    return {} if state.output_path is None else state.output_path.read(data)


def _place_result(result_path: Path | None, raw_input: Any, result: Any) -> Any:
    return raw_input if result_path is None else result_path.write(raw_input, result)


def _child_scope(parent: str, label: str) -> str:
    return f"{parent}/{label}" if parent else label


def _integer_at_least(minimum: int, value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise StateError(RUNTIME, f"{what} must select an integer >= {minimum}, got {value!r}")
    return value


def _call_with_timeout(call: Callable[[], Any], timeout: int | None) -> Any:
    """Run `call`, raising States.Timeout after `timeout` seconds (the call's thread is then abandoned)."""
    if timeout is None:
        return call()
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = call()
        except BaseException as error:  # handed to the waiting thread below
            outcome["error"] = error

    worker = threading.Thread(target=target, daemon=True, name="asl-task")
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise StateError(TIMEOUT, f"Task did not finish within TimeoutSeconds={timeout}")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


# --------------------------------------------------------------------------------------------- execution

class _Execution:
    """The state of one execution; each handler runs one state type."""

    def __init__(self, machine_name: str, execution_name: str, input: Any, invoke_task: TaskInvoker,
                 sleep: Callable[[float], None], on_event: Callable[[StateEvent], None] | None,
                 random_fraction: Callable[[], float], redrive_count: int = 0) -> None:
        self.input = input
        self.execution_id = f"{_ARN_PREFIX}:execution:{machine_name}:{execution_name}"
        self.history: list[StateEvent] = []
        self._invoke_task = invoke_task
        self._sleep = sleep
        self._on_event = on_event
        self._random_fraction = random_fraction
        self._lock = threading.Lock()
        self._context_base = {
            "Execution": {"Id": self.execution_id, "Name": execution_name, "Input": input,
                          "StartTime": format_timestamp(utc_now()), "RedriveCount": redrive_count},
            "StateMachine": {"Id": f"{_ARN_PREFIX}:stateMachine:{machine_name}", "Name": machine_name},
        }
        self._handlers: dict[type[State], Callable[[_Visit, _CancelToken], _Step]] = {
            PassState: self._run_pass, TaskState: self._run_task, ChoiceState: self._run_choice,
            WaitState: self._run_wait, SucceedState: self._run_succeed, FailState: self._run_fail,
            ParallelState: self._run_parallel, MapState: self._run_map,
        }

    def run_graph(self, graph: Graph, data: Any, scope: str, cancel: _CancelToken) -> Any:
        name: str | None = graph.start_at
        while name is not None:
            if cancel.is_cancelled():
                raise _Cancelled()
            data, name = self._run_state(graph.states[name], data, scope, cancel)
        return data

    def _run_state(self, state: State, raw_input: Any, scope: str, cancel: _CancelToken) -> tuple[Any, str | None]:
        visit = _Visit(state, raw_input, scope)
        self._emit(visit.event(STARTED))
        try:
            step = self._handlers[type(state)](visit, cancel)
        except StateError as failure:
            self._emit(visit.event(FAILED, ended=time.time(), failure=failure))
            raise
        status = CAUGHT if step.caught else SUCCEEDED
        self._emit(visit.event(status, ended=time.time(), output=step.output, failure=step.caught))
        return step.output, step.next

    def _emit(self, event: StateEvent) -> None:
        with self._lock:  # Map and Parallel report from worker threads; keep history and callbacks serial
            if event.status != STARTED:
                self.history.append(event)
            if self._on_event is not None:
                self._on_event(event)

    def _context(self, visit: _Visit, map_item: dict[str, Any] | None = None) -> dict[str, Any]:
        context = {**self._context_base, "State": {"Name": visit.state.name, "RetryCount": visit.retry_count,
                                                   "EnteredTime": format_epoch(visit.entered)}}
        if map_item is not None:
            context["Map"] = {"Item": map_item}
        return context

    # ------------------------------------------------------------------------------- simple states

    def _run_pass(self, visit: _Visit, cancel: _CancelToken) -> _Step:
        state: PassState = visit.state
        effective = _select_input(state, visit.raw_input)
        if state.result is not NO_RESULT:
            result = state.result
        elif state.parameters is not None:
            result = state.parameters.render(effective, self._context(visit))
        else:
            result = effective
        output = _select_output(state, _place_result(state.result_path, visit.raw_input, result))
        return _Step(output, state.next)

    def _run_choice(self, visit: _Visit, cancel: _CancelToken) -> _Step:
        state: ChoiceState = visit.state
        effective = _select_input(state, visit.raw_input)
        context = self._context(visit)
        chosen = next((branch.next for branch in state.choices if branch.rule.matches(effective, context)),
                      state.default)
        if chosen is None:
            raise StateError(NO_CHOICE_MATCHED, f"no choice rule matched in {state.name!r} and it has no Default")
        return _Step(_select_output(state, effective), chosen)

    def _run_wait(self, visit: _Visit, cancel: _CancelToken) -> _Step:
        state: WaitState = visit.state
        effective = _select_input(state, visit.raw_input)
        delay = self._wait_seconds(state, effective, self._context(visit))
        if delay > 0:
            self._sleep(delay)
        return _Step(_select_output(state, effective), state.next)

    def _wait_seconds(self, state: WaitState, effective: Any, context: dict[str, Any]) -> float:
        if state.seconds is not None:
            return state.seconds
        if state.seconds_path is not None:
            return _integer_at_least(0, state.seconds_path.evaluate(effective, context), "SecondsPath")
        target = state.timestamp
        if state.timestamp_path is not None:
            value = state.timestamp_path.evaluate(effective, context)
            target = parse_timestamp(value)
            if target is None:
                raise StateError(RUNTIME, f"TimestampPath selected {value!r}, not an RFC 3339 timestamp")
        return max(0.0, (target - utc_now()).total_seconds())

    def _run_succeed(self, visit: _Visit, cancel: _CancelToken) -> _Step:
        return _Step(_select_output(visit.state, _select_input(visit.state, visit.raw_input)), None)

    def _run_fail(self, visit: _Visit, cancel: _CancelToken) -> _Step:
        state: FailState = visit.state
        context = self._context(visit)
        error = state.error if state.error_path is None else state.error_path.evaluate(visit.raw_input, context)
        cause = state.cause if state.cause_path is None else state.cause_path.evaluate(visit.raw_input, context)
        for what, value in (("ErrorPath", error), ("CausePath", cause)):
            if value is not None and not isinstance(value, str):
                raise StateError(RUNTIME, f"{what} must select a string, got {value!r}")
        raise StateError(error or "", cause or "")

    # ------------------------------------------------------------------- states with error handling

    def _run_task(self, visit: _Visit, cancel: _CancelToken) -> _Step:
        state: TaskState = visit.state
        effective = _select_input(state, visit.raw_input)
        timeout = state.timeout_seconds
        if state.timeout_seconds_path is not None:
            timeout = _integer_at_least(1, state.timeout_seconds_path.read(effective), "TimeoutSecondsPath")

        def attempt(context: dict[str, Any]) -> Any:
            parameters = effective if state.parameters is None else state.parameters.render(effective, context)
            call = functools.partial(self._invoke, state.resource, _json_copy(parameters), _json_copy(context))
            return _json_copy(_call_with_timeout(call, timeout))

        return self._guarded(visit, attempt)

    def _invoke(self, resource: str, parameters: Any, context: dict[str, Any]) -> Any:
        try:
            return self._invoke_task(resource, parameters, context)
        except TaskFailed as failure:
            raise StateError(failure.error, failure.cause) from failure
        except Exception as error:  # any other invoker exception is a generic task failure, as in AWS
            raise StateError(TASK_FAILED, str(error)) from error

    def _run_parallel(self, visit: _Visit, cancel: _CancelToken) -> _Step:
        state: ParallelState = visit.state
        effective = _select_input(state, visit.raw_input)

        def attempt(context: dict[str, Any]) -> Any:
            branch_input = effective if state.parameters is None else state.parameters.render(effective, context)
            jobs = [self._graph_job(branch, branch_input, _child_scope(visit.scope, f"{state.name}.Branches[{index}]"))
                    for index, branch in enumerate(state.branches)]
            return _run_all(jobs, len(jobs), cancel)

        return self._guarded(visit, attempt)

    def _graph_job(self, graph: Graph, data: Any, scope: str) -> Callable[[_CancelToken], Any]:
        return lambda cancel: self.run_graph(graph, data, scope, cancel)

    def _run_map(self, visit: _Visit, cancel: _CancelToken) -> _Step:
        state: MapState = visit.state
        effective = _select_input(state, visit.raw_input)

        def attempt(context: dict[str, Any]) -> Any:
            items = self._map_items(state, effective, context)
            jobs = [self._iteration_job(visit, effective, index, item) for index, item in enumerate(items)]
            results = _run_all(jobs, self._map_workers(state, effective, len(items)), cancel)
            return results if state.result_writer is None else self._write_results(state, effective, context,
                                                                                  results)

        return self._guarded(visit, attempt)

    def _map_items(self, state: MapState, effective: Any, context: dict[str, Any]) -> list:
        if state.item_reader is None:
            items, source = state.items_path.evaluate(effective, context), f"ItemsPath {state.items_path.text!r}"
        else:  # a JSON array in S3, read through the invoker (s3:getObject) as Step Functions reads it
            parameters = state.item_reader.parameters.render(effective, context)
            body = self._invoke(state.item_reader.resource, parameters, _json_copy(context))["Body"]
            try:
                items = json.loads(body)
            except ValueError as error:
                raise StateError(RUNTIME, f"ItemReader: s3://{parameters.get('Bucket')}/{parameters.get('Key')} "
                                          f"is not JSON: {error}") from None
            source = f"ItemReader's s3://{parameters.get('Bucket')}/{parameters.get('Key')}"
        if not isinstance(items, list):
            raise StateError(RUNTIME, f"{source} must hold an array, got {items!r}")
        return items

    def _write_results(self, state: MapState, effective: Any, context: dict[str, Any], results: list) -> dict:
        """ResultWriter: the iterations' results and a manifest under Prefix; the Map's result names them."""
        parameters = state.result_writer.parameters.render(effective, context)
        run_id = str(uuid.uuid4())
        bucket, folder = parameters["Bucket"], f"{parameters.get('Prefix', '').rstrip('/')}/{run_id}/"
        map_run = f"{self.execution_id.replace(':execution:', ':mapRun:', 1)}/{state.name}:{run_id}"
        succeeded = [{"Output": json.dumps(result), "Status": "SUCCEEDED"} for result in results]
        written = {f"{folder}SUCCEEDED_0.json": succeeded,
                   f"{folder}manifest.json": {"DestinationBucket": bucket, "MapRunArn": map_run,
                                              "ResultFiles": {"SUCCEEDED": [{"Key": f"{folder}SUCCEEDED_0.json",
                                                                             "Size": len(json.dumps(succeeded))}],
                                                              "FAILED": [], "PENDING": []}}}
        for key, body in written.items():
            self._invoke(state.result_writer.resource, {"Bucket": bucket, "Key": key, "Body": json.dumps(body)},
                         _json_copy(context))
        return {"MapRunArn": map_run, "ResultWriterDetails": {"Bucket": bucket, "Key": f"{folder}manifest.json"}}

    def _map_workers(self, state: MapState, effective: Any, item_count: int) -> int:
        limit = state.max_concurrency
        if state.max_concurrency_path is not None:
            limit = _integer_at_least(0, state.max_concurrency_path.read(effective), "MaxConcurrencyPath")
        return max(1, min(limit or _INLINE_MAP_CONCURRENCY_LIMIT, _INLINE_MAP_CONCURRENCY_LIMIT, item_count))

    def _iteration_job(self, visit: _Visit, effective: Any, index: int, item: Any) -> Callable[[_CancelToken], Any]:
        state: MapState = visit.state

        def job(cancel: _CancelToken) -> Any:
            context = self._context(visit, map_item={"Index": index, "Value": item})
            data = item if state.item_selector is None else state.item_selector.render(effective, context)
            return self.run_graph(state.processor, data, _child_scope(visit.scope, f"{state.name}[{index}]"), cancel)

        return job

    def _guarded(self, visit: _Visit, attempt: Callable[[dict[str, Any]], Any]) -> _Step:
        """Run `attempt` with the state's Retry and Catch; on success apply ResultSelector/ResultPath/OutputPath."""
        state: GuardedState = visit.state
        retries_used = [0] * len(state.retriers)
        while True:
            visit.attempt_started = time.time()
            context = self._context(visit)
            try:
                result = attempt(context)
                if state.result_selector is not None:
                    result = state.result_selector.render(result, context)
            except StateError as failure:
                delay = self._retry_delay(state, retries_used, failure)
                if delay is None:
                    return self._catch(visit, failure)
                self._emit(visit.event(RETRIED, ended=time.time(), failure=failure))
                visit.retry_count += 1
                if delay > 0:
                    self._sleep(delay)
                continue
            output = _select_output(state, _place_result(state.result_path, visit.raw_input, result))
            return _Step(output, state.next)

    def _retry_delay(self, state: GuardedState, retries_used: list[int], failure: StateError) -> float | None:
        """The delay before the next attempt, or None when no retrier applies or the matching one is spent."""
        for index, retrier in enumerate(state.retriers):
            if handles_error(retrier.error_equals, failure.error):
                if retries_used[index] >= retrier.max_attempts:
                    return None
                delay = retrier.delay(retries_used[index], self._random_fraction)
                retries_used[index] += 1
                return delay
        return None

    def _catch(self, visit: _Visit, failure: StateError) -> _Step:
        state: GuardedState = visit.state
        catcher = next((c for c in state.catchers if handles_error(c.error_equals, failure.error)), None)
        if catcher is None:
            raise failure
        error_output = {"Error": failure.error, "Cause": failure.cause}
        return _Step(_place_result(catcher.result_path, visit.raw_input, error_output), catcher.next, failure)


def _run_all(jobs: list[Callable[[_CancelToken], Any]], max_workers: int, parent: _CancelToken) -> list[Any]:
    """Run jobs in threads and return their results in job order; the first failure cancels the rest."""
    if not jobs:
        return []
    cancel = _CancelToken(parent)
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="asl") as pool:
        futures = [pool.submit(job, cancel) for job in jobs]
        try:
            for future in as_completed(futures):
                future.result()
        except BaseException:
            # As in Step Functions, one failed branch or iteration stops the others (at their next state).
            cancel.cancel()
            for future in futures:
                future.cancel()
            raise
    return [future.result() for future in futures]
