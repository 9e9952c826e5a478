"""Local launcher: executes `statemachine/pipeline.asl.json` on this machine, the local stand-in for Step Functions.

Lambda tasks call `lambdas/<name>/app.py` in-process; ECS tasks run `containers/<family>/entrypoint.py` as a
process with the environment the task's container overrides give it, as Fargate would. Both use the local
services (folder storage, JSON catalog, DuckDB). Their JSON log lines go to `logs/<execution>/` in the data
directory, so the terminal keeps the progress view.
"""
from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from local_runtime.asl import ExecutionFailed, Redrive, StateEvent, StateMachine, TaskFailed, load_state_machine
from local_runtime.asl.definition import (
    S3_GET_OBJECT,
    S3_PUT_OBJECT,
    Graph,
    MapState,
    ParallelState,
    State,
    TaskState,
)
from local_runtime.host import install_local_host, local_home
from local_runtime.local_history import append_event, history_path
from pipeline.core.errors import ConfigError
from pipeline.core.logs import JsonFormatter, QuietFileHandler
from pipeline.core.settings import REPO_ROOT
from pipeline.edge.faults import configured_faults
from pipeline.warehouse.ports import Services

STATE_MACHINE_PATH = REPO_ROOT / "statemachine" / "pipeline.asl.json"
LOCAL_ACCOUNT = "arn:aws:{service}:local:000000000000:{resource}"
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
ECS_RUN_TASK_SYNC = "arn:aws:states:::ecs:runTask.sync"
ATHENA_START_QUERY_SYNC = "arn:aws:states:::athena:startQueryExecution.sync"
LAMBDA_FUNCTIONS = {"CleanupFunctionArn": "cleanup", "PrepareDataFunctionArn": "prepare_data",
                    "KeepFeaturesFunctionArn": "keep_features", "PublishFunctionArn": "publish"}
EXECUTION_ENDED_HANDLER = "record_failure"  # the template's EventBridge rule calls it when an execution fails
TASK_FAMILIES = {"TrainingTaskDefinitionArn": "training", "InferenceTaskDefinitionArn": "inference"}
STDERR_TAIL_LINES = 20
_RUNNING_TASKS: set[subprocess.Popen] = set()  # container processes of this launcher, for stop_running_tasks
_RUNNING_LOCK = threading.Lock()
# Fargate runs each task on its own vCPUs; here they share this machine's cores: at most one task process per core
# at a time (a Map's other iterations wait, as for MaxConcurrency), so tasks never slow each other down.
_TASK_SLOTS = threading.BoundedSemaphore(os.cpu_count() or 1)


def local_substitutions() -> dict[str, str]:
    """What SAM's DefinitionSubstitutions give on AWS, pointing at this repository's handlers and containers."""
    substitutions = {key: LOCAL_ACCOUNT.format(service="lambda", resource=f"function:{name}")
                     for key, name in LAMBDA_FUNCTIONS.items()}
    substitutions |= {key: LOCAL_ACCOUNT.format(service="ecs", resource=f"task-definition/{family}")
                      for key, family in TASK_FAMILIES.items()}
    substitutions |= {"ClusterArn": LOCAL_ACCOUNT.format(service="ecs", resource="cluster/local"),
                      "AthenaWorkGroup": "local", "DataBucketName": "local-warehouse",
                      "SubnetIdA": "subnet-local-a", "SubnetIdB": "subnet-local-b", "TaskSecurityGroupId": "sg-local"}
    return substitutions


@dataclass
class LocalLambdaContext:
    """The part of Lambda's context object handlers may read."""
    function_name: str
    aws_request_id: str
    deadline: float

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def call_lambda(name: str, event: Any, timeout_seconds: int) -> Any:
    """`lambdas/<name>/app.py`'s handler, called in this process as Lambda calls it."""
    handler = importlib.import_module(f"lambdas.{name}.app").handler
    return handler(event, LocalLambdaContext(name, str(uuid.uuid4()), time.monotonic() + timeout_seconds))


class LocalTaskInvoker:
    def __init__(self, environment: dict[str, str], log_dir: Path, services: Services):
        self.environment = environment
        self.log_dir = log_dir
        self.services = services  # Athena's and S3's stand-ins

    def __call__(self, resource: str, parameters: Any, context: dict) -> Any:
        if resource == LAMBDA_INVOKE:
            return self.invoke_lambda(parameters)
        if resource == ECS_RUN_TASK_SYNC:
            return self.run_task(parameters, context)
        if resource == ATHENA_START_QUERY_SYNC:
            return self.run_query(parameters)
        if resource == S3_GET_OBJECT:  # a Distributed Map's ItemReader (the bucket is the warehouse here)
            return {"Body": self.services.storage.read_bytes(parameters["Key"]).decode()}
        if resource == S3_PUT_OBJECT:  # its ResultWriter
            self.services.storage.write_bytes(parameters["Key"], parameters["Body"].encode())
            return {}
        raise TaskFailed("States.Runtime", f"the local launcher cannot run resource {resource}")

    def invoke_lambda(self, parameters: dict) -> dict:
        name = parameters["FunctionName"].rsplit(":", 1)[-1]
        try:
            payload = call_lambda(name, parameters.get("Payload", {}), timeout_seconds=900)
        except Exception as error:  # Lambda reports the exception's type as the error name
            raise TaskFailed(type(error).__name__, json.dumps(
                {"errorMessage": str(error), "errorType": type(error).__name__})) from error
        # Round-trip through JSON: a handler must return what Lambda could serialise.
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": json.loads(json.dumps(payload))}

    def run_query(self, parameters: dict) -> dict:
        """An Athena UNLOAD, run by DuckDB; the result has the shape of GetQueryExecution's."""
        query = {"QueryExecutionId": str(uuid.uuid4()), "Query": parameters["QueryString"],
                 "WorkGroup": parameters.get("WorkGroup")}
        try:
            self.services.sql.run_unload(parameters["QueryString"])
        except Exception as error:  # Step Functions reports a failed query as States.TaskFailed
            raise TaskFailed("States.TaskFailed", json.dumps({"QueryExecution": query | {
                "Status": {"State": "FAILED", "StateChangeReason": f"{type(error).__name__}: {error}"}}})) from error
        return {"QueryExecution": query | {"Status": {"State": "SUCCEEDED"}}}

    def run_task(self, parameters: dict, context: dict) -> dict:
        family = parameters["TaskDefinition"].rsplit("/", 1)[-1]
        task_arn = LOCAL_ACCOUNT.format(service="ecs", resource=f"task/local/{uuid.uuid4().hex}")
        environment = dict(self.environment)
        for override in parameters.get("Overrides", {}).get("ContainerOverrides", []):
            environment |= {item["Name"]: item["Value"] for item in override.get("Environment", [])}
        log_path = self.log_dir / f"{context['State']['Name']}-{task_arn.rsplit('/', 1)[-1][:8]}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with _TASK_SLOTS, open(log_path, "w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "local_runtime.container", f"containers.{family}.entrypoint"], cwd=REPO_ROOT,
                env=environment, stdout=log, stderr=subprocess.STDOUT)
            with _RUNNING_LOCK:
                _RUNNING_TASKS.add(process)
            try:
                process.wait()
            finally:
                with _RUNNING_LOCK:
                    _RUNNING_TASKS.discard(process)
        container = {"Name": family, "ExitCode": process.returncode, "LastStatus": "STOPPED"}
        if process.returncode != 0:
            container["Reason"] = _failure_reason(log_path)
            raise TaskFailed("States.TaskFailed", json.dumps(
                {"TaskArn": task_arn, "StopCode": "EssentialContainerExited", "Containers": [container],
                 "StoppedReason": "Essential container in task exited", "LogFile": str(log_path)}))
        return {"TaskArn": task_arn, "LastStatus": "STOPPED", "StopCode": "EssentialContainerExited",
                "Containers": [container]}


def stop_running_tasks(grace_seconds: float = 10) -> int:
    """Stop every container process this launcher started, as ECS stops a task (SIGTERM, then SIGKILL after the
    grace period); return how many there were. For an interrupted execution: no task outlives it."""
    with _RUNNING_LOCK:
        running = list(_RUNNING_TASKS)
    for process in running:
        process.terminate()
    for process in running:
        try:
            process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
    return len(running)


def _failure_reason(log_path: Path) -> str:
    """What a person reading the task's CloudWatch log would look for: its last error line, else its tail."""
    lines = log_path.read_text().splitlines()
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "error_type" in record:
            return f"{record['error_type']}: {record['error_message']}"
    return "\n".join(lines[-STDERR_TAIL_LINES:])


def new_execution_name(run_date: str | None) -> str:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"{run_date or 'latest'}-{stamp}-{uuid.uuid4().hex[:4]}"


def task_environment(home: Path) -> dict[str, str]:
    """Containers see this process's environment and data directory, as task definitions give theirs."""
    return {**os.environ, "PIPELINE_HOME": str(home),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}


@contextmanager
def lambda_log_file(path: Path) -> Iterator[None]:
    """The in-process handlers' log lines, as CloudWatch would keep them, in the execution's log folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = QuietFileHandler(path)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(min(root.getEffectiveLevel(), logging.INFO))
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def states_running_pipeline_code(graph: Graph) -> set[str]:
    """The Task states of `graph` and of the Parallel branches and Map processors in it that invoke a Lambda or
    run an ECS task: the only states whose door (pipeline.edge.handlers) can inject a fault."""
    names = set()
    for state in graph.states.values():
        if isinstance(state, TaskState) and state.resource in (LAMBDA_INVOKE, ECS_RUN_TASK_SYNC):
            names.add(state.name)
        for nested in _nested_graphs(state):
            names |= states_running_pipeline_code(nested)
    return names


def _nested_graphs(state: State) -> tuple[Graph, ...]:
    if isinstance(state, ParallelState):
        return state.branches
    return (state.processor,) if isinstance(state, MapState) else ()


def check_fault_states(machine: StateMachine | None = None) -> None:
    """PIPELINE_FAULTS may name only states that run pipeline code: any other name would inject nothing, and a
    test of Retry or resume would pass without its fault."""
    machine = machine or load_state_machine(STATE_MACHINE_PATH, local_substitutions())
    valid = states_running_pipeline_code(machine.graph)
    if unknown := sorted(set(configured_faults()) - valid):
        raise ConfigError(f"PIPELINE_FAULTS names {', '.join(unknown)}, not a state of statemachine/"
                          f"{STATE_MACHINE_PATH.name} that runs pipeline code (a Lambda or an ECS task); faults can "
                          f"be injected in: {', '.join(sorted(valid))}")


def execute_locally(execution_input: dict, *, execution_name: str | None = None,
                    on_event: Callable[[StateEvent], None] | None = None,
                    sleep: Callable[[float], None] | None = None, redrive: Redrive | None = None):
    """Run the state machine once against the local services (or continue a failed execution, `redrive`);
    return the ExecutionResult or raise ExecutionFailed. An execution that fails or is interrupted is reported
    to RecordFailure the way the template's EventBridge rule reports it on AWS."""
    services = install_local_host()
    machine = load_state_machine(STATE_MACHINE_PATH, local_substitutions())
    check_fault_states(machine)
    execution_name = execution_name or new_execution_name(execution_input.get("run_date"))
    log_dir = local_home() / "logs" / execution_name
    invoker = LocalTaskInvoker(task_environment(local_home()), log_dir, services)
    history = history_path(local_home() / "logs", execution_name)

    def record_and_report(event: StateEvent) -> None:  # the history Step Functions would keep
        append_event(history, event)
        if on_event:
            on_event(event)

    with lambda_log_file(log_dir / "lambdas.log"):
        try:
            return machine.execute(execution_input, invoker, execution_name=execution_name,
                                   sleep=sleep or time.sleep, on_event=record_and_report, redrive=redrive)
        except ExecutionFailed as failure:
            _report_ended(execution_name, execution_input, "FAILED", failure.error, failure.cause, redrive)
            raise
        except KeyboardInterrupt:
            _report_ended(execution_name, execution_input, "ABORTED", "Interrupted", "stopped by Ctrl-C or SIGTERM",
                          redrive)
            raise


def _report_ended(execution_name: str, execution_input: dict, status: str, error: str, cause: str,
                  redrive: Redrive | None) -> None:
    """The "Step Functions Execution Status Change" event, delivered to RecordFailure."""
    call_lambda(EXECUTION_ENDED_HANDLER, {
        "source": "aws.states", "detail-type": "Step Functions Execution Status Change",
        "detail": {"name": execution_name, "executionArn": LOCAL_ACCOUNT.format(
                       service="states", resource=f"execution:pipeline:{execution_name}"),
                   "status": status, "input": json.dumps(execution_input),
                   "error": error, "cause": cause, "redriveCount": redrive.count if redrive else 0}},
        timeout_seconds=60)

