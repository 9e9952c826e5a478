"""Loading a definition: ${Name} substitution, JSON parsing, and validation of every state into typed objects.

Validation is complete at load time: every state type, field, path, intrinsic call and transition is checked
here, so an execution never stops half-way because of a construct this executor does not implement.
"""
from __future__ import annotations

import json
import pathlib
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, ClassVar, Iterator, Mapping, NoReturn

from local_runtime.asl.choice import Rule, parse_rule
from local_runtime.asl.errors import ALL, RUNTIME, TASK_FAILED, TIMEOUT, InvalidConstruct, UnsupportedConstruct
from local_runtime.asl.paths import ROOT, Path, parse_path
from local_runtime.asl.templates import Expression, PayloadTemplate, compile_template, parse_expression
from local_runtime.asl.timestamps import parse_timestamp

DEFAULT_MACHINE_NAME = "LocalStateMachine"
NO_RESULT = object()  # a Pass state without Result passes its (effective) input through


# ------------------------------------------------------------------------------------------------ model

def handles_error(error_equals: tuple[str, ...], error: str) -> bool:
    """ErrorEquals semantics; States.Runtime is never retried nor caught, as in Step Functions."""
    if error == RUNTIME:
        return False
    return any(name in (ALL, error) or (name == TASK_FAILED and error != TIMEOUT) for name in error_equals)


@dataclass(frozen=True)
class Retrier:
    error_equals: tuple[str, ...]
    interval_seconds: int = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: int | None = None
    full_jitter: bool = False

    def delay(self, retries_done: int, random_fraction: Callable[[], float]) -> float:
        """Seconds to wait before retry number `retries_done + 1` of this retrier."""
        delay = self.interval_seconds * self.backoff_rate ** retries_done
        if self.max_delay_seconds is not None:
            delay = min(delay, self.max_delay_seconds)
        return delay * random_fraction() if self.full_jitter else delay


@dataclass(frozen=True)
class Catcher:
    error_equals: tuple[str, ...]
    next: str
    result_path: Path | None = ROOT


@dataclass(frozen=True)
class Graph:
    """A set of states with an entry point: the machine itself, a Parallel branch or a Map processor."""

    start_at: str
    states: Mapping[str, State]


@dataclass(frozen=True, kw_only=True)
class State:
    TYPE: ClassVar[str]
    name: str
    next: str | None = None  # None: the state ends its graph (End, Succeed, Fail) or Choice decides
    input_path: Path | None = ROOT  # None: the JSON null path, which selects {}
    output_path: Path | None = ROOT


@dataclass(frozen=True, kw_only=True)
class PassState(State):
    TYPE = "Pass"
    parameters: PayloadTemplate | None = None
    result: Any = NO_RESULT
    result_path: Path | None = ROOT  # None: discard the result and keep the input


@dataclass(frozen=True)
class ChoiceBranch:
    rule: Rule
    next: str


@dataclass(frozen=True, kw_only=True)
class ChoiceState(State):
    TYPE = "Choice"
    choices: tuple[ChoiceBranch, ...]
    default: str | None = None


@dataclass(frozen=True, kw_only=True)
class WaitState(State):
    TYPE = "Wait"
    seconds: int | None = None
    seconds_path: Path | None = None
    timestamp: datetime | None = None
    timestamp_path: Path | None = None


@dataclass(frozen=True, kw_only=True)
class SucceedState(State):
    TYPE = "Succeed"


@dataclass(frozen=True, kw_only=True)
class FailState(State):
    TYPE = "Fail"
    error: str | None = None
    error_path: Expression | None = None
    cause: str | None = None
    cause_path: Expression | None = None


@dataclass(frozen=True, kw_only=True)
class GuardedState(State):
    """A state with a result and error handling: Task, Parallel, Map."""

    result_selector: PayloadTemplate | None = None
    result_path: Path | None = ROOT
    retriers: tuple[Retrier, ...] = ()
    catchers: tuple[Catcher, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TaskState(GuardedState):
    TYPE = "Task"
    resource: str
    parameters: PayloadTemplate | None = None
    timeout_seconds: int | None = None
    timeout_seconds_path: Path | None = None


@dataclass(frozen=True, kw_only=True)
class ParallelState(GuardedState):
    TYPE = "Parallel"
    branches: tuple[Graph, ...]
    parameters: PayloadTemplate | None = None


@dataclass(frozen=True)
class S3Access:
    """A Distributed Map's ItemReader or ResultWriter: the S3 resource and its Bucket/Key (or Prefix) template."""
    resource: str
    parameters: PayloadTemplate


@dataclass(frozen=True, kw_only=True)
class MapState(GuardedState):
    TYPE = "Map"
    processor: Graph
    items_path: Path = ROOT
    item_selector: PayloadTemplate | None = None  # ItemSelector, or the legacy per-item Parameters
    max_concurrency: int = 0  # 0: as many as Step Functions runs for an inline Map
    max_concurrency_path: Path | None = None
    item_reader: S3Access | None = None  # a JSON array in S3 (InputType JSON) instead of ItemsPath
    result_writer: S3Access | None = None  # the iterations' results written to S3 instead of returned


# -------------------------------------------------------------------------------------- reading source

_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


def read_document(source: str | dict[str, Any] | pathlib.Path,
                  substitutions: Mapping[str, str]) -> tuple[dict[str, Any], str]:
    """The definition as a dict with every ${Name} substituted, and a default machine name."""
    if isinstance(source, dict):
        document, name = _substitute_in_json(source, substitutions), DEFAULT_MACHINE_NAME
    elif isinstance(source, str) and source.lstrip().startswith("{"):
        document, name = _parse_json(_substitute(source, substitutions)), DEFAULT_MACHINE_NAME
    else:
        path = pathlib.Path(source)
        text = path.read_text(encoding="utf-8")
        document, name = _parse_json(_substitute(text, substitutions)), path.name.split(".")[0]
    if not isinstance(document, dict):
        raise UnsupportedConstruct(None, "definition", "the definition must be a JSON object")
    return document, name


def _substitute(text: str, substitutions: Mapping[str, str]) -> str:
    """Replace ${Name} in the raw text, as SAM's DefinitionSubstitutions does before the JSON is parsed."""
    def replace(match: re.Match[str]) -> str:
        name = match[1]
        if name not in substitutions:
            raise UnsupportedConstruct(None, match[0], f"no substitution given for {match[0]}"
                                                        f" (known: {sorted(substitutions) or 'none'})")
        return str(substitutions[name])
    return _PLACEHOLDER.sub(replace, text)


def _substitute_in_json(node: Any, substitutions: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return _substitute(node, substitutions)
    if isinstance(node, list):
        return [_substitute_in_json(item, substitutions) for item in node]
    if isinstance(node, dict):
        return {_substitute(key, substitutions): _substitute_in_json(value, substitutions)
                for key, value in node.items()}
    return node


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UnsupportedConstruct(None, "definition", f"not valid JSON: {error}") from None


# ------------------------------------------------------------------------------------------- validation

_TOP_LEVEL_FIELDS = frozenset({"StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"})
_GRAPH_FIELDS = frozenset({"StartAt", "States", "Comment"})
_COMMON = frozenset({"Type", "Comment", "QueryLanguage"})
_FLOW = frozenset({"Next", "End"})
_IO = frozenset({"InputPath", "OutputPath"})
_GUARDED = frozenset({"ResultSelector", "ResultPath", "Retry", "Catch"})
_ALLOWED_FIELDS: dict[str, frozenset[str]] = {
    "Task": _COMMON | _FLOW | _IO | _GUARDED | {"Resource", "Parameters", "TimeoutSeconds", "TimeoutSecondsPath",
                                                "HeartbeatSeconds", "HeartbeatSecondsPath"},
    "Pass": _COMMON | _FLOW | _IO | {"Parameters", "Result", "ResultPath"},
    "Choice": _COMMON | _IO | {"Choices", "Default"},
    "Wait": _COMMON | _FLOW | _IO | {"Seconds", "SecondsPath", "Timestamp", "TimestampPath"},
    "Succeed": _COMMON | _IO,
    "Fail": _COMMON | {"Error", "ErrorPath", "Cause", "CausePath"},
    "Parallel": _COMMON | _FLOW | _IO | _GUARDED | {"Branches", "Parameters"},
    "Map": _COMMON | _FLOW | _IO | _GUARDED | {"ItemProcessor", "Iterator", "ItemsPath", "ItemSelector",
                                               "Parameters", "MaxConcurrency", "MaxConcurrencyPath", "Label",
                                               "ItemReader", "ResultWriter", "ToleratedFailurePercentage"},
}
_ANY_STATE_FIELD = frozenset().union(*_ALLOWED_FIELDS.values())
_TOLERATED_FAILURES = "tolerated failure thresholds other than 0% are not supported: any failed iteration fails the Map"
_UNSUPPORTED_FIELDS = {
    "Arguments": "JSONata states (Arguments) are not supported; use Parameters",
    "Output": "JSONata states (Output) are not supported; use OutputPath/ResultSelector",
    "Items": "JSONata Items is not supported; use ItemsPath",
    "Assign": "workflow variables (Assign) are not supported",
    "Credentials": "cross-account task Credentials are not supported locally",
    "ItemBatcher": "Distributed Map ItemBatcher is not supported",
    "ToleratedFailurePercentagePath": _TOLERATED_FAILURES,
    "ToleratedFailureCount": _TOLERATED_FAILURES,
    "ToleratedFailureCountPath": _TOLERATED_FAILURES,
}
_WAIT_FIELDS = ("Seconds", "SecondsPath", "Timestamp", "TimestampPath")
_RETRIER_FIELDS = frozenset({"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds",
                             "JitterStrategy", "Comment"})
_CATCHER_FIELDS = frozenset({"ErrorEquals", "Next", "ResultPath", "Comment"})
_MISSING = object()


class _Reader:
    """Typed access to one JSON object of the definition; every problem names the state and the field."""

    def __init__(self, body: Any, state: str | None, prefix: str = "", location: str = "") -> None:
        self.state, self.prefix, self.location = state, prefix, location
        if not isinstance(body, dict):
            self.fail("", "expected a JSON object")
        self.body: dict[str, Any] = body

    def fail(self, field: str, reason: str) -> NoReturn:
        suffix = f" (inside {self.location})" if self.location else ""
        raise UnsupportedConstruct(self.state, (self.prefix + field).rstrip("."), reason + suffix)

    @contextmanager
    def translating(self, field: str) -> Iterator[None]:
        """Report an InvalidConstruct from a helper parser under this reader's state and `field`."""
        try:
            yield
        except InvalidConstruct as problem:
            self.fail(_join(field, problem.field), problem.reason)

    def child(self, body: Any, prefix: str) -> _Reader:
        return _Reader(body, self.state, self.prefix + prefix, self.location)

    def has(self, field: str) -> bool:
        return field in self.body

    def raw(self, field: str, default: Any = None) -> Any:
        return self.body.get(field, default)

    def check_fields(self, allowed: frozenset[str], kind: str) -> None:
        for field in self.body:
            if field not in allowed:
                known_elsewhere = field in _ANY_STATE_FIELD or field in _TOP_LEVEL_FIELDS
                self.fail(field, _UNSUPPORTED_FIELDS.get(field)
                          or (f"not a field of {kind}" if known_elsewhere else "unknown field"))

    def exclusive(self, *fields: str) -> None:
        present = [field for field in fields if self.has(field)]
        if len(present) > 1:
            self.fail(present[1], f"cannot be combined with {present[0]}")

    def string(self, field: str, *, required: bool = False) -> str | None:
        value = self.raw(field, _MISSING)
        if value is _MISSING and not required:
            return None
        if not isinstance(value, str) or not value:
            self.fail(field, "required" if value is _MISSING else f"must be a non-empty string, got {value!r}")
        return value

    def integer(self, field: str, *, minimum: int, default: int | None = None) -> int | None:
        value = self.raw(field, _MISSING)
        if value is _MISSING:
            return default
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            self.fail(field, f"must be an integer >= {minimum}, got {value!r}")
        return value

    def number(self, field: str, *, minimum: float, default: float) -> float:
        value = self.raw(field, default)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < minimum:
            self.fail(field, f"must be a number >= {minimum}, got {value!r}")
        return float(value)

    def path(self, field: str, *, default: Path | None = ROOT, nullable: bool = False, reference: bool = False,
             allow_context: bool = False) -> Path | None:
        value = self.raw(field, _MISSING)
        if value is _MISSING:
            return default
        if value is None:
            if not nullable:
                self.fail(field, "must not be null")
            return None
        with self.translating(field):
            return parse_path(value, allow_context=allow_context, reference=reference)

    def template(self, field: str, *, allow_map_context: bool = False) -> PayloadTemplate | None:
        if not self.has(field):
            return None
        with self.translating(field):
            return compile_template(self.raw(field), allow_map_context=allow_map_context)

    def expression(self, field: str) -> Expression | None:
        if not self.has(field):
            return None
        with self.translating(field):
            return parse_expression(self.raw(field))


def _join(field: str, sub_field: str) -> str:
    if not field or not sub_field:
        return field or sub_field
    return field + sub_field if sub_field.startswith("[") else f"{field}.{sub_field}"


def parse_definition(document: dict[str, Any]) -> Graph:
    reader = _Reader(document, None)
    _check_query_language(reader)
    if reader.has("Version") and not isinstance(reader.raw("Version"), str):
        reader.fail("Version", "must be a string such as \"1.0\"")
    reader.integer("TimeoutSeconds", minimum=1)  # validated; not enforced locally
    return _parse_graph(reader, owner_location="", allowed=_TOP_LEVEL_FIELDS)


def _parse_graph(reader: _Reader, owner_location: str, allowed: frozenset[str]) -> Graph:
    """Parse StartAt/States; `owner_location` (e.g. "Fan.Branches[0]") names the graph in nested errors."""
    reader.check_fields(allowed, "this object")
    start_at = reader.string("StartAt", required=True)
    bodies = reader.raw("States")
    if not isinstance(bodies, dict) or not bodies:
        reader.fail("States", "must be a non-empty object of states")
    states = {name: _parse_state(name, body, owner_location) for name, body in bodies.items()}
    if start_at not in states:
        reader.fail("StartAt", f"no state named {start_at!r}")
    _check_transitions(states, owner_location)
    _check_reachable(start_at, states, owner_location)
    return Graph(start_at, states)


def _parse_state(name: str, body: Any, location: str) -> State:
    reader = _Reader(body, name, location=location)
    state_type = reader.string("Type", required=True)
    if state_type not in _PARSERS:
        reader.fail("Type", f"unknown state type {state_type!r} (supported: {', '.join(_PARSERS)})")
    _check_query_language(reader)
    reader.check_fields(_ALLOWED_FIELDS[state_type], f"a {state_type} state")
    return _PARSERS[state_type](reader, _common_fields(reader, state_type))


def _check_query_language(reader: _Reader) -> None:
    language = reader.raw("QueryLanguage", "JSONPath")
    if language != "JSONPath":
        reader.fail("QueryLanguage", f"{language!r} is not supported; only JSONPath definitions run locally")


def _common_fields(reader: _Reader, state_type: str) -> dict[str, Any]:
    allowed = _ALLOWED_FIELDS[state_type]
    fields: dict[str, Any] = {"name": reader.state}
    if "Next" in allowed:
        fields["next"] = _next_or_end(reader)
    if "InputPath" in allowed:
        fields["input_path"] = reader.path("InputPath", nullable=True)
        fields["output_path"] = reader.path("OutputPath", nullable=True)
    return fields


def _next_or_end(reader: _Reader) -> str | None:
    end = reader.raw("End", False)
    if not isinstance(end, bool):
        reader.fail("End", "must be true or false")
    if reader.has("Next") and end:
        reader.fail("End", "a state cannot have both Next and End")
    if not reader.has("Next") and not end:
        reader.fail("Next", "a non-terminal state needs Next or \"End\": true")
    return reader.string("Next")


def _parse_pass(reader: _Reader, common: dict[str, Any]) -> PassState:
    return PassState(**common, parameters=reader.template("Parameters"), result=reader.raw("Result", NO_RESULT),
                     result_path=reader.path("ResultPath", nullable=True, reference=True))


def _parse_task(reader: _Reader, common: dict[str, Any]) -> TaskState:
    resource = reader.string("Resource", required=True)
    if resource.endswith(".waitForTaskToken"):
        reader.fail("Resource", "callback tasks (.waitForTaskToken) are not supported locally")
    reader.exclusive("TimeoutSeconds", "TimeoutSecondsPath")
    reader.exclusive("HeartbeatSeconds", "HeartbeatSecondsPath")
    # Heartbeats need a SendTaskHeartbeat API, which has no local meaning: validated, then ignored.
    reader.integer("HeartbeatSeconds", minimum=1)
    reader.path("HeartbeatSecondsPath", default=None, reference=True)
    return TaskState(**common, **_guarded_fields(reader), resource=resource,
                     parameters=reader.template("Parameters"),
                     timeout_seconds=reader.integer("TimeoutSeconds", minimum=1),
                     timeout_seconds_path=reader.path("TimeoutSecondsPath", default=None, reference=True))


def _parse_choice(reader: _Reader, common: dict[str, Any]) -> ChoiceState:
    bodies = reader.raw("Choices")
    if not isinstance(bodies, list) or not bodies:
        reader.fail("Choices", "must be a non-empty array of rules")
    branches = []
    for index, body in enumerate(bodies):
        where = f"Choices[{index}]"
        with reader.translating(""):
            rule = parse_rule(body, where, top_level=True)
        if not isinstance(body.get("Next"), str):
            reader.fail(f"{where}.Next", "every top-level choice rule needs Next")
        branches.append(ChoiceBranch(rule, body["Next"]))
    return ChoiceState(**common, choices=tuple(branches), default=reader.string("Default"))


def _parse_wait(reader: _Reader, common: dict[str, Any]) -> WaitState:
    present = [field for field in _WAIT_FIELDS if reader.has(field)]
    if len(present) != 1:
        reader.fail(present[1] if present else "Seconds",
                    "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath")
    timestamp = parse_timestamp(reader.raw("Timestamp"))
    if reader.has("Timestamp") and timestamp is None:
        reader.fail("Timestamp", f"not an RFC 3339 timestamp: {reader.raw('Timestamp')!r}")
    return WaitState(**common, seconds=reader.integer("Seconds", minimum=0), timestamp=timestamp,
                     seconds_path=reader.path("SecondsPath", default=None, reference=True, allow_context=True),
                     timestamp_path=reader.path("TimestampPath", default=None, reference=True, allow_context=True))


def _parse_succeed(reader: _Reader, common: dict[str, Any]) -> SucceedState:
    return SucceedState(**common)


def _parse_fail(reader: _Reader, common: dict[str, Any]) -> FailState:
    reader.exclusive("Error", "ErrorPath")
    reader.exclusive("Cause", "CausePath")
    return FailState(**common, error=reader.string("Error"), error_path=reader.expression("ErrorPath"),
                     cause=reader.string("Cause"), cause_path=reader.expression("CausePath"))


def _parse_parallel(reader: _Reader, common: dict[str, Any]) -> ParallelState:
    bodies = reader.raw("Branches")
    if not isinstance(bodies, list) or not bodies:
        reader.fail("Branches", "must be a non-empty array of {StartAt, States}")
    branches = tuple(_nested_graph(reader, f"Branches[{index}]", body, _GRAPH_FIELDS)
                     for index, body in enumerate(bodies))
    return ParallelState(**common, **_guarded_fields(reader), branches=branches,
                         parameters=reader.template("Parameters"))


def _parse_map(reader: _Reader, common: dict[str, Any]) -> MapState:
    reader.exclusive("ItemProcessor", "Iterator")
    reader.exclusive("ItemSelector", "Parameters")
    reader.exclusive("MaxConcurrency", "MaxConcurrencyPath")
    reader.string("Label")  # names Distributed Map child executions; nothing to do locally
    if reader.has("ItemProcessor"):
        _check_processor_config(reader.child(reader.raw("ItemProcessor"), "ItemProcessor."))
        processor = _nested_graph(reader, "ItemProcessor", reader.raw("ItemProcessor"),
                                  _GRAPH_FIELDS | {"ProcessorConfig"})
    elif reader.has("Iterator"):
        processor = _nested_graph(reader, "Iterator", reader.raw("Iterator"), _GRAPH_FIELDS)
    else:
        reader.fail("ItemProcessor", "a Map state needs ItemProcessor (or the legacy Iterator)")
    selector_field = "Parameters" if reader.has("Parameters") else "ItemSelector"
    reader.exclusive("ItemReader", "ItemsPath")
    distributed = reader.has("ItemProcessor") and reader.raw("ItemProcessor").get("ProcessorConfig", {}).get(
        "Mode") == "DISTRIBUTED"
    for field in ("ItemReader", "ResultWriter", "ToleratedFailurePercentage"):
        if reader.has(field) and not distributed:
            reader.fail(field, "is for a Distributed Map (ItemProcessor.ProcessorConfig.Mode DISTRIBUTED)")
    if reader.integer("ToleratedFailurePercentage", minimum=0, default=0):
        reader.fail("ToleratedFailurePercentage", _TOLERATED_FAILURES)
    return MapState(**common, **_guarded_fields(reader), processor=processor,
                    items_path=reader.path("ItemsPath", reference=True, allow_context=True),
                    item_selector=reader.template(selector_field, allow_map_context=True),
                    max_concurrency=reader.integer("MaxConcurrency", minimum=0, default=0),
                    max_concurrency_path=reader.path("MaxConcurrencyPath", default=None, reference=True),
                    item_reader=_s3_access(reader, "ItemReader", S3_GET_OBJECT, {"ReaderConfig"}),
                    result_writer=_s3_access(reader, "ResultWriter", S3_PUT_OBJECT, set()))


S3_GET_OBJECT = "arn:aws:states:::s3:getObject"
S3_PUT_OBJECT = "arn:aws:states:::s3:putObject"


def _s3_access(reader: _Reader, field: str, resource: str, extra_fields: set[str]) -> S3Access | None:
    """ItemReader (a JSON array, from s3:getObject) or ResultWriter (s3:putObject): what this executor runs."""
    if not reader.has(field):
        return None
    access = reader.child(reader.raw(field), f"{field}.")
    access.check_fields(frozenset({"Resource", "Parameters", *extra_fields}), field)
    if access.raw("Resource") != resource:
        access.fail("Resource", f"must be {resource} (the only {field} the local executor runs)")
    if "ReaderConfig" in extra_fields:
        config = access.child(access.raw("ReaderConfig", {}), "ReaderConfig.")
        config.check_fields(frozenset({"InputType"}), "ReaderConfig")
        if config.raw("InputType") != "JSON":
            config.fail("InputType", "must be JSON (a JSON array of items)")
    return S3Access(resource, access.template("Parameters"))


def _check_processor_config(processor: _Reader) -> None:
    """INLINE and DISTRIBUTED both run the processor in local threads."""
    config = processor.child(processor.raw("ProcessorConfig", {}), "ProcessorConfig.")
    config.check_fields(frozenset({"Mode", "ExecutionType"}), "ProcessorConfig")
    if config.raw("Mode", "INLINE") not in ("INLINE", "DISTRIBUTED"):
        config.fail("Mode", "must be INLINE or DISTRIBUTED")
    if config.raw("ExecutionType", "STANDARD") not in ("STANDARD", "EXPRESS"):
        config.fail("ExecutionType", "must be STANDARD or EXPRESS")


def _nested_graph(reader: _Reader, field: str, body: Any, allowed: frozenset[str]) -> Graph:
    location = f"{reader.location}/{reader.state}.{field}" if reader.location else f"{reader.state}.{field}"
    return _parse_graph(reader.child(body, f"{field}."), location, allowed)


def _guarded_fields(reader: _Reader) -> dict[str, Any]:
    return {
        "result_selector": reader.template("ResultSelector"),
        "result_path": reader.path("ResultPath", nullable=True, reference=True),
        "retriers": tuple(_parse_retrier(reader.child(body, f"Retry[{index}]."), is_last)
                          for index, body, is_last in _handlers(reader, "Retry")),
        "catchers": tuple(_parse_catcher(reader.child(body, f"Catch[{index}]."), is_last)
                          for index, body, is_last in _handlers(reader, "Catch")),
    }


def _handlers(reader: _Reader, field: str) -> list[tuple[int, Any, bool]]:
    bodies = reader.raw(field, [])
    if not isinstance(bodies, list):
        reader.fail(field, "must be an array")
    return [(index, body, index == len(bodies) - 1) for index, body in enumerate(bodies)]


def _parse_retrier(reader: _Reader, is_last: bool) -> Retrier:
    reader.check_fields(_RETRIER_FIELDS, "a Retrier")
    jitter = reader.raw("JitterStrategy", "NONE")
    if jitter not in ("FULL", "NONE"):
        reader.fail("JitterStrategy", "must be FULL or NONE")
    return Retrier(
        error_equals=_error_equals(reader, is_last),
        interval_seconds=reader.integer("IntervalSeconds", minimum=1, default=1),
        max_attempts=reader.integer("MaxAttempts", minimum=0, default=3),
        backoff_rate=reader.number("BackoffRate", minimum=1.0, default=2.0),
        max_delay_seconds=reader.integer("MaxDelaySeconds", minimum=1),
        full_jitter=jitter == "FULL",
    )


def _parse_catcher(reader: _Reader, is_last: bool) -> Catcher:
    reader.check_fields(_CATCHER_FIELDS, "a Catcher")
    return Catcher(error_equals=_error_equals(reader, is_last), next=reader.string("Next", required=True),
                   result_path=reader.path("ResultPath", nullable=True, reference=True))


def _error_equals(reader: _Reader, is_last: bool) -> tuple[str, ...]:
    names = reader.raw("ErrorEquals")
    if not isinstance(names, list) or not names or not all(isinstance(name, str) and name for name in names):
        reader.fail("ErrorEquals", "must be a non-empty array of error names")
    if ALL in names and len(names) > 1:
        reader.fail("ErrorEquals", "States.ALL must appear alone")
    if ALL in names and not is_last:
        reader.fail("ErrorEquals", "States.ALL must be in the last Retrier/Catcher")
    return tuple(names)


_PARSERS: dict[str, Callable[[_Reader, dict[str, Any]], State]] = {
    "Task": _parse_task, "Pass": _parse_pass, "Choice": _parse_choice, "Wait": _parse_wait,
    "Succeed": _parse_succeed, "Fail": _parse_fail, "Parallel": _parse_parallel, "Map": _parse_map,
}


def _transitions(state: State) -> list[tuple[str, str]]:
    """(field, target state) for every transition the state can take."""
    targets = [("Next", state.next)] if state.next else []
    if isinstance(state, ChoiceState):
        targets += [(f"Choices[{index}].Next", branch.next) for index, branch in enumerate(state.choices)]
        targets += [("Default", state.default)] if state.default else []
    if isinstance(state, GuardedState):
        targets += [(f"Catch[{index}].Next", catcher.next) for index, catcher in enumerate(state.catchers)]
    return targets


def _check_transitions(states: Mapping[str, State], location: str) -> None:
    suffix = f" (inside {location})" if location else ""
    for state in states.values():
        for field, target in _transitions(state):
            if target not in states:
                raise UnsupportedConstruct(state.name, field, f"no state named {target!r} in this scope{suffix}")


def _check_reachable(start_at: str, states: Mapping[str, State], location: str) -> None:
    """Step Functions rejects states that no transition leads to; so do we."""
    reached, pending = {start_at}, [start_at]
    while pending:
        for _, target in _transitions(states[pending.pop()]):
            if target not in reached:
                reached.add(target)
                pending.append(target)
    for name in states:
        if name not in reached:
            suffix = f" (inside {location})" if location else ""
            raise UnsupportedConstruct(name, "States", f"state is not reachable from StartAt {start_at!r}{suffix}")
