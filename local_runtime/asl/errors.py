"""Exceptions of the ASL executor, and the ASL error names it raises itself."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from local_runtime.asl.events import StateEvent

# Error names from the Amazon States Language specification.
ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"
RUNTIME = "States.Runtime"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"


class AslError(Exception):
    """Base class: everything the ASL executor raises on purpose."""


class UnsupportedConstruct(AslError):
    """The definition is invalid or uses something this executor does not implement (raised at load time)."""

    def __init__(self, state: str | None, field: str, reason: str) -> None:
        where = "definition" if state is None else f"state {state!r}"
        super().__init__(f"{where}, field {field!r}: {reason}")
        self.state = state
        self.field = field
        self.reason = reason


class ExecutionFailed(AslError):
    """The execution ended in a Fail state or with an error no Catch handled."""

    def __init__(self, error: str, cause: str, history: list[StateEvent]) -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause
        self.history = history


class NamedError(Exception):
    """An ASL error name with its cause: what Retry and Catch match on."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause


class TaskFailed(NamedError):
    """Raised by a task invoker to fail the Task with a specific ASL error name (matched by Retry and Catch)."""


class InvalidConstruct(ValueError):
    """A load-time problem found below the state level; the loader adds the state name and the field prefix."""

    def __init__(self, reason: str, field: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class StateError(NamedError):
    """An ASL error raised while a state runs; Retry and Catch match on `error`."""
