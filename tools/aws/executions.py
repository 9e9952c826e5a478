"""Executions of the deployed state machine, for the CLI's `--target aws`: one started per week and named after
it, followed state by state to the end, listed, and a failed one redriven.

Step Functions keeps an execution name for 90 days and answers a second start of a *running* execution with the
same input by returning that execution, so the week's name alone does not refuse a second start: `start` looks the
name up first. A deliberate second run of a week (`rerun`) gets the week's name plus the time it was started.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import time
from dataclasses import dataclass, field
from typing import Callable

from pipeline.core.errors import ConfigError, PipelineError

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


class WeekAlreadyStarted(PipelineError):
    pass


def week_execution_name(run_date: dt.date) -> str:
    return f"week-{run_date.isoformat()}"


def rerun_execution_name(run_date: dt.date, now: dt.datetime) -> str:
    return f"{week_execution_name(run_date)}-rerun-{now.strftime('%Y%m%dT%H%M%S')}"


@dataclass
class HistoryReader:
    """Turns an execution's history events into one line per state: entered, done (with its seconds), failed.
    States inside a Map iteration are counted, not listed (a week may have hundreds of shards); their failures are
    listed. A Distributed Map's iterations are child executions: its map run's item counts are asked for
    (`describe_map_run`) when it ends."""
    describe_map_run: Callable[[str], dict] | None = None
    entered: dict[str, dt.datetime] = field(default_factory=dict)
    current: str = ""
    iteration_depth: int = 0
    iterations_done: int = 0
    map_run: str | None = None

    def line(self, event: dict) -> str | None:
        kind = event["type"]
        if kind == "MapIterationStarted":
            self.iteration_depth += 1
        elif kind in ("MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted"):
            self.iteration_depth -= 1
            self.iterations_done += kind == "MapIterationSucceeded"
        elif kind == "MapRunStarted":
            self.map_run = event["mapRunStartedEventDetails"]["mapRunArn"]
        elif kind.endswith("StateEntered"):
            return self._entered(event["stateEnteredEventDetails"]["name"], event["timestamp"])
        elif kind.endswith("StateExited"):
            return self._exited(event["stateExitedEventDetails"]["name"], event["timestamp"])
        elif kind.endswith("Failed") or kind.endswith("TimedOut"):
            details = next((value for key, value in event.items() if key.endswith("EventDetails")), {})
            if "error" in details or "cause" in details:
                where = "execution" if kind.startswith("Execution") else self.current
                return f"  {where} {kind}: {details.get('error', '')}: {details.get('cause', '')}".rstrip(": ")
        return None

    def _entered(self, name: str, at: dt.datetime) -> str | None:
        if self.iteration_depth:
            return None
        self.entered[name], self.current = at, name
        return f"{name} started"

    def _exited(self, name: str, at: dt.datetime) -> str | None:
        if self.iteration_depth:
            return None
        seconds = (at - self.entered.get(name, at)).total_seconds()
        shards = f", {self.iterations_done} iteration(s)" if self.iterations_done else ""
        if self.map_run and self.describe_map_run:
            counts = self.describe_map_run(self.map_run)["itemCounts"]
            shards = f", {counts['succeeded']} of {counts['total']} item(s) in child executions"
        self.iterations_done, self.map_run = 0, None
        return f"{name} done in {seconds:.1f}s{shards}"


class Executions:
    def __init__(self, stepfunctions, state_machine_arn: str) -> None:
        self.client = stepfunctions
        self.state_machine_arn = state_machine_arn

    @classmethod
    def from_environment(cls, session) -> Executions:
        arn = os.environ.get("PIPELINE_STATE_MACHINE_ARN")
        if not arn:
            raise ConfigError("no state machine: set PIPELINE_STATE_MACHINE_ARN or PIPELINE_STACK (the stack's "
                              "StateMachineArn output)")
        return cls(session.client("stepfunctions"), arn)

    def execution_arn(self, name: str) -> str:
        machine = self.state_machine_arn.split(":stateMachine:", 1)
        return f"{machine[0]}:execution:{machine[1]}:{name}"

    def find(self, name: str) -> dict | None:
        try:
            return self.client.describe_execution(executionArn=self.execution_arn(name))
        except self.client.exceptions.ExecutionDoesNotExist:
            return None

    def start(self, run_date: dt.date, execution_input: dict, rerun: bool = False) -> str:
        name = (rerun_execution_name(run_date, dt.datetime.now(dt.timezone.utc)) if rerun
                else week_execution_name(run_date))
        if not rerun and (existing := self.find(name)):
            raise WeekAlreadyStarted(self._already_started(name, existing["status"]))
        try:
            return self.client.start_execution(stateMachineArn=self.state_machine_arn, name=name,
                                               input=json.dumps(execution_input))["executionArn"]
        except self.client.exceptions.ExecutionAlreadyExists:
            raise WeekAlreadyStarted(self._already_started(name, "started just now")) from None

    @staticmethod
    def _already_started(name: str, status: str) -> str:
        return (f"week already started: execution {name} ({status}). Follow it with `runs --target aws`; "
                "to run the week once more on purpose, add --rerun (or redrive a failed one: `redrive NAME`)")

    def follow(self, execution_arn: str, report: Callable[[str], None], poll_seconds: float = 5.0) -> dict:
        """Report each state as the history shows it, until the execution ends; its final description."""
        reader = HistoryReader(lambda arn: self.client.describe_map_run(mapRunArn=arn))
        seen = 0
        while True:
            description = self.client.describe_execution(executionArn=execution_arn)
            for event in self._history_after(execution_arn, seen):
                seen = event["id"]
                if line := reader.line(event):
                    report(line)
            if description["status"] in TERMINAL:
                return description
            time.sleep(poll_seconds)

    def _history_after(self, execution_arn: str, seen: int) -> list[dict]:
        events, token = [], None
        while True:
            page = self.client.get_execution_history(executionArn=execution_arn, maxResults=1000,
                                                     **({"nextToken": token} if token else {}))
            events += [event for event in page["events"] if event["id"] > seen]
            if not (token := page.get("nextToken")):
                return events

    def listing(self, limit: int) -> list[dict]:
        executions = []
        for page in self.client.get_paginator("list_executions").paginate(stateMachineArn=self.state_machine_arn):
            executions += page["executions"]
            if len(executions) >= limit:
                break
        return executions[:limit]

    def redrive(self, name: str) -> str:
        arn = self.execution_arn(name)
        try:
            self.client.redrive_execution(executionArn=arn)
        except self.client.exceptions.ExecutionNotRedrivable as error:
            raise PipelineError(f"execution {name} cannot be redriven: {error.response['Error']['Message']}; "
                                "start the week again with `run --target aws --rerun`") from None
        except self.client.exceptions.ExecutionDoesNotExist:
            raise PipelineError(f"no execution {name}; `runs --target aws` lists them") from None
        return arn
