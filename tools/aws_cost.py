"""What one weekly run would cost on AWS: measured durations x the template's sizes x list prices.

Prices are configuration (tools/aws_prices.json, or `python -m tools.bench --prices PATH`); sizes come from
template.yaml (the task definitions' Cpu, Memory and EphemeralStorage, the functions' MemorySize, with the
parameters' defaults). The formula, per service:

    Fargate         sum over tasks of  billed_hours x (vCPU x per_vcpu_hour + GB x per_gb_hour
                                                       + ephemeral GB above the free 20 x its GB-hour price)
                    billed_hours = max(seconds, minimum_billed_seconds) / 3600   (Fargate bills 1 minute at least)
    Lambda          sum over invocations of  seconds x MemorySize GB x per_gb_second,  + invocations x request price
    Step Functions  state transitions x per_thousand_state_transitions / 1000  (Standard bills every state
                    entered, retries included)
    Athena          sum over queries of  max(bytes scanned, minimum_mb_per_query MB) x per_tb_scanned / TB,
                    with 1 MB = 2^20 and 1 TB = 2^40 bytes
    S3              left out: a run's few thousand requests and a week of storage are fractions of a cent

The durations are the ones measured on the machine that ran the bench, used as they are: a Fargate task with
more (or fewer) vCPUs than this machine's cores runs faster (or slower). PrepareSets' UNLOADs, run here by DuckDB,
run on Athena there: billed by the bytes they scan, while Step Functions waits for them at no cost but its
state transitions.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline.settings import REPO_ROOT

TEMPLATE_PATH = REPO_ROOT / "template.yaml"
DEFAULT_PRICES_PATH = Path(__file__).with_name("aws_prices.json")
# ASL state -> the template resource that runs it.
TASK_DEFINITIONS = {"Training": "TrainingTaskDefinition", "InferenceShard": "InferenceTaskDefinition"}
LAMBDA_FUNCTIONS = {"Cleanup": "CleanupFunction", "PrepareData": "PrepareDataFunction",
                    "Publish": "PublishFunction"}
CPU_UNITS_PER_VCPU = 1024
MIB_PER_GB = 1024  # Fargate and Lambda sizes are MiB; their "GB" prices are per GiB
MB, TB = 2 ** 20, 2 ** 40
FARGATE_DEFAULT_EPHEMERAL_GB = 20
# Valid Fargate task sizes (Linux): CPU units -> the memory (MiB) each allows.
FARGATE_MEMORY_MIB = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}


@dataclass(frozen=True)
class TaskSize:
    cpu_units: int
    memory_mib: int
    ephemeral_gb: int = FARGATE_DEFAULT_EPHEMERAL_GB

    @property
    def vcpu(self) -> float:
        return self.cpu_units / CPU_UNITS_PER_VCPU

    @property
    def memory_gb(self) -> float:
        return self.memory_mib / MIB_PER_GB

    def label(self) -> str:
        return f"{self.vcpu:g} vCPU, {self.memory_gb:g} GB"


@dataclass(frozen=True)
class FargateTask:
    state: str
    seconds: float
    size: TaskSize


@dataclass(frozen=True)
class LambdaCall:
    state: str
    seconds: float
    memory_mib: int


@dataclass(frozen=True)
class RunUsage:
    """What one run used, in the units AWS bills."""
    tasks: list[FargateTask]
    lambda_calls: list[LambdaCall]
    state_transitions: int
    athena_queries: int
    athena_bytes_per_query: int  # an estimate: see the module's docstring


# ------------------------------------------------------------------------------------------ configuration

def load_prices(path: Path = DEFAULT_PRICES_PATH) -> dict:
    return json.loads(Path(path).read_text())


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads the short intrinsic tags (!Ref, !Sub, !GetAtt…) as their long form, {"Ref": …} or {"Fn::Sub": …}."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)  # !GetAtt Resource.Attribute is ["Resource", "Attribute"] in long form
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE_PATH) -> dict:
    return yaml.load(Path(path).read_text(), Loader=_CloudFormationLoader)


def _resolved(template: dict, value: Any, overrides: dict[str, str] | None = None) -> Any:
    """A property's value as deployed: `!Ref Parameter` -> its override, else its Default."""
    if isinstance(value, dict) and "Ref" in value:
        return (overrides or {}).get(value["Ref"], template["Parameters"][value["Ref"]]["Default"])
    return value


def configured_task_sizes(template: dict, overrides: dict[str, str] | None = None) -> dict[str, TaskSize]:
    """ASL state -> the Fargate size its task definition gives it, with the deploy's parameter overrides."""
    sizes = {}
    for state, resource in TASK_DEFINITIONS.items():
        properties = template["Resources"][resource]["Properties"]
        ephemeral = properties.get("EphemeralStorage", {}).get("SizeInGiB", FARGATE_DEFAULT_EPHEMERAL_GB)
        sizes[state] = TaskSize(*(int(_resolved(template, value, overrides))
                                  for value in (properties["Cpu"], properties["Memory"], ephemeral)))
    return sizes


def configured_lambda_memory_mib(template: dict) -> dict[str, int]:
    """ASL state -> MemorySize of its function (the Globals' MemorySize when the function sets none)."""
    default = template.get("Globals", {}).get("Function", {}).get("MemorySize", 128)
    return {state: int(_resolved(template, template["Resources"][resource]["Properties"].get("MemorySize", default)))
            for state, resource in LAMBDA_FUNCTIONS.items()}


# ------------------------------------------------------------------------------------------------ cost

def fargate_task_cost(task: FargateTask, prices: dict) -> float:
    fargate = prices["fargate"]
    hours = max(task.seconds, fargate["minimum_billed_seconds"]) / 3600
    extra_storage_gb = max(0, task.size.ephemeral_gb - fargate["free_ephemeral_storage_gb"])
    return hours * (task.size.vcpu * fargate["per_vcpu_hour"] + task.size.memory_gb * fargate["per_gb_hour"]
                    + extra_storage_gb * fargate["ephemeral_storage_per_gb_hour"])


def lambda_cost(calls: list[LambdaCall], prices: dict) -> float:
    compute = sum(call.seconds * call.memory_mib / MIB_PER_GB for call in calls) * prices["lambda"]["per_gb_second"]
    return compute + len(calls) * prices["lambda"]["per_million_requests"] / 1e6


def athena_cost(queries: int, bytes_per_query: int, prices: dict) -> float:
    athena = prices["athena"]
    billed_bytes = max(bytes_per_query, athena["minimum_mb_per_query"] * MB)
    return queries * billed_bytes / TB * athena["per_tb_scanned"]


def run_cost(usage: RunUsage, prices: dict) -> dict:
    """Dollars per service and in total, for one run."""
    costs = {
        "fargate": sum(fargate_task_cost(task, prices) for task in usage.tasks),
        "lambda": lambda_cost(usage.lambda_calls, prices),
        "step_functions": usage.state_transitions * prices["step_functions"]["per_thousand_state_transitions"] / 1000,
        "athena": athena_cost(usage.athena_queries, usage.athena_bytes_per_query, prices),
    }
    return {**costs, "total": sum(costs.values())}


# ------------------------------------------------------------------------------------------ task sizing

def smallest_fargate_size(needed_mib: float, preferred_cpu_units: int) -> tuple[int, int] | None:
    """(CPU units, memory MiB): the smallest valid memory >= needed_mib, with the preferred CPU if it allows that
    much, else with the smallest CPU that does; None if no Fargate task is that large."""
    candidates = [preferred_cpu_units] + sorted(cpu for cpu in FARGATE_MEMORY_MIB if cpu > preferred_cpu_units)
    for cpu in candidates:
        fitting = [memory for memory in FARGATE_MEMORY_MIB.get(cpu, ()) if memory >= needed_mib]
        if fitting:
            return cpu, min(fitting)
    return None
