"""Which attempt of its execution this call works for: 0, then 1 for its first redrive... ($$.Execution.RedriveCount,
which the door sets for each handler call and task). The week lock keys on it."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

_attempt: ContextVar[int] = ContextVar("execution_attempt", default=0)


@contextmanager
def execution_attempt(redrive_count: int) -> Iterator[None]:
    """The attempt of the execution this call belongs to (0, then 1 for its first redrive...)."""
    token = _attempt.set(redrive_count)
    try:
        yield
    finally:
        _attempt.reset(token)


def current_attempt() -> int:
    """The attempt of the execution this process is working for (see execution_attempt)."""
    return _attempt.get()
