"""Fault injection, off by default: make a chosen state fail once or always, to prove Retry, resume and redrive.

PIPELINE_FAULTS=Training:once,InferenceShard:always   (state names of statemachine/pipeline.asl.json)

"once" fails the first attempt of that state in each execution (a marker in the warehouse remembers it); the
retry, or a resumed execution, then passes.
"""
from __future__ import annotations

import os

from pipeline.core.errors import ConfigError, PipelineError
from pipeline.warehouse.ports import Storage

MODES = ("once", "always")


class InjectedFault(PipelineError):
    """The failure PIPELINE_FAULTS asked for."""


def configured_faults(environ: dict[str, str] | None = None) -> dict[str, str]:
    text = (os.environ if environ is None else environ).get("PIPELINE_FAULTS", "")
    faults = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        state, _, mode = entry.partition(":")
        if mode not in MODES:
            raise ConfigError(f"PIPELINE_FAULTS: {entry!r} must be STATE:once or STATE:always")
        faults[state] = mode
    return faults


def inject_fault(state: str, execution_name: str, storage: Storage) -> None:
    mode = configured_faults().get(state)
    if mode is None:
        return
    if mode == "once" and not storage.create_exclusive(f"faults/{execution_name}/{state}", b""):
        return  # failed once already in this execution
    raise InjectedFault(f"fault injected in {state} ({mode}, by PIPELINE_FAULTS)")
