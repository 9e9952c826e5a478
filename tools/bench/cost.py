"""What one weekly run would cost on AWS: measured durations x the template's sizes x list prices.

Prices are configuration (tools/bench/aws_prices.json, or `python -m tools.bench.measure --prices PATH`); sizes
come from template.yaml (the task definitions' Cpu, Memory and EphemeralStorage, the functions' MemorySize, with the
parameters' defaults). The formula, per service:

    Fargate         sum over tasks of  billed_hours x (vCPU x per_vcpu_hour + GB x per_gb_hour
                                                       + ephemeral GB above the free 20 x its GB-hour price)
                    billed_hours = max(seconds, minimum_billed_seconds) / 3600   (Fargate bills 1 minute at least)
    Lambda          sum over invocations of  seconds x MemorySize GB x per_gb_second,  + invocations x request price
    Step Functions  state transitions x per_thousand_state_transitions / 1000  (Standard bills every state
                    entered, retries included)
    Athena          sum over queries of  max(bytes scanned, minimum_mb_per_query MB) x per_tb_scanned / TB,
                    with 1 MB = 2^20 and 1 TB = 2^40 bytes
    DynamoDB        the serving store's weekly load (pipeline/serving/store.py): items x ceil(item bytes /
                    write_unit_bytes) write units x per_million_write_request_units / 1e6, + the GB those items
                    hold x per_gb_month x the days they are kept (SERVING_DAYS) / 30.4; the API's reads are not
                    the run's (make bench-serve)
    S3              left out: a run's few thousand requests and a week of storage are fractions of a cent

The durations are the ones measured on the machine that ran the bench, used as they are: a Fargate task with
more (or fewer) vCPUs than this machine's cores runs faster (or slower). PrepareSets' UNLOADs, run here by DuckDB,
run on Athena there: billed by the bytes they scan, while Step Functions waits for them at no cost but its
state transitions.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from tools.aws.template import MIB_PER_GB, TaskSize

DEFAULT_PRICES_PATH = Path(__file__).with_name("aws_prices.json")
MB, TB = 2 ** 20, 2 ** 40
DAYS_A_MONTH = 30.4


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
class ServingLoad:
    """The items a run writes into the serving store: a customer's each, and the week's two pointers."""
    items: int
    item_bytes: float  # on average, as DynamoDB sizes an item (see item_bytes)
    days_kept: int


@dataclass(frozen=True)
class RunUsage:
    """What one run used, in the units AWS bills."""
    tasks: list[FargateTask]
    lambda_calls: list[LambdaCall]
    state_transitions: int
    athena_queries: int
    athena_bytes_per_query: int  # an estimate: see the module's docstring
    serving: ServingLoad


def load_prices(path: Path = DEFAULT_PRICES_PATH) -> dict:
    return json.loads(Path(path).read_text())


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


def item_bytes(item: dict) -> int:
    """An item's size as DynamoDB bills it, its attribute names and values: within a few bytes of its compact
    JSON text, which is what is measured."""
    return len(json.dumps(item, separators=(",", ":")).encode())


def write_units(items: int, bytes_per_item: float, prices: dict) -> int:
    """DynamoDB's write request units for `items` items: one per started write_unit_bytes (1 KB) of each."""
    return items * math.ceil(bytes_per_item / prices["dynamodb"]["write_unit_bytes"])


def dynamodb_cost(load: ServingLoad, prices: dict) -> float:
    dynamodb = prices["dynamodb"]
    gb_months = load.items * load.item_bytes / 1e9 * load.days_kept / DAYS_A_MONTH
    return (write_units(load.items, load.item_bytes, prices) / 1e6 * dynamodb["per_million_write_request_units"]
            + gb_months * dynamodb["per_gb_month_storage"])


def run_cost(usage: RunUsage, prices: dict) -> dict:
    """Dollars per service and in total, for one run."""
    costs = {
        "fargate": sum(fargate_task_cost(task, prices) for task in usage.tasks),
        "lambda": lambda_cost(usage.lambda_calls, prices),
        "step_functions": usage.state_transitions * prices["step_functions"]["per_thousand_state_transitions"] / 1000,
        "athena": athena_cost(usage.athena_queries, usage.athena_bytes_per_query, prices),
        "dynamodb": dynamodb_cost(usage.serving, prices),
    }
    return {**costs, "total": sum(costs.values())}

