"""What one weekly run would cost on AWS: measured durations x the template's sizes x list prices, per service."""
import json

import pytest

from tools.aws.template import TaskSize
from tools.bench.cost import (
    FargateTask,
    LambdaCall,
    RunUsage,
    ServingLoad,
    athena_cost,
    fargate_task_cost,
    item_bytes,
    lambda_cost,
    load_prices,
    run_cost,
    write_units,
)

# Round prices, so every expected dollar amount below can be checked by hand.
PRICES = {
    "region": "test-region",
    "fargate": {"per_vcpu_hour": 0.04, "per_gb_hour": 0.004, "ephemeral_storage_per_gb_hour": 0.0001,
                "free_ephemeral_storage_gb": 20, "minimum_billed_seconds": 60},
    "lambda": {"per_gb_second": 0.00001, "per_million_requests": 0.20},
    "step_functions": {"per_thousand_state_transitions": 0.025},
    "athena": {"per_tb_scanned": 5.0, "minimum_mb_per_query": 10},
    "dynamodb": {"per_million_write_request_units": 1.0, "per_gb_month_storage": 0.5, "write_unit_bytes": 1024},
}
NO_LOAD = ServingLoad(0, 0.0, 0)
TRAINING_SIZE = TaskSize(4096, 16384, ephemeral_gb=50)
SHARD_SIZE = TaskSize(1024, 4096)


def test_a_fargate_task_costs_its_hours_times_vcpu_memory_and_extra_storage_prices():
    half_hour = FargateTask("Training", 1800, TRAINING_SIZE)
    # 0.5 h x (4 vCPU x 0.04 + 16 GB x 0.004 + (50 - 20) GB x 0.0001)
    assert fargate_task_cost(half_hour, PRICES) == pytest.approx(0.5 * (0.16 + 0.064 + 0.003))


def test_a_short_fargate_task_is_billed_one_minute():
    assert fargate_task_cost(FargateTask("InferenceShard", 10, SHARD_SIZE), PRICES) == pytest.approx(
        60 / 3600 * (1 * 0.04 + 4 * 0.004))


def test_run_cost_adds_lambda_step_functions_and_athena():
    usage = RunUsage(tasks=[FargateTask("Training", 3600, TRAINING_SIZE)],
                     lambda_calls=[LambdaCall("Cleanup", 10, 1024), LambdaCall("PrepareData", 5, 2048)],
                     state_transitions=106, athena_queries=3, athena_bytes_per_query=2**20,
                     serving=ServingLoad(2_000_000, 400.0, 61))
    cost = run_cost(usage, PRICES)
    assert cost["fargate"] == pytest.approx(0.16 + 0.064 + 0.003)
    assert cost["lambda"] == pytest.approx(20 * 0.00001 + 2 * 0.20 / 1e6)  # 10 GB-s + 10 GB-s, 2 requests
    assert cost["step_functions"] == pytest.approx(106 * 0.025 / 1000)
    assert cost["athena"] == pytest.approx(3 * 10 * 2**20 / 2**40 * 5.0)  # 1 MB scans bill the 10 MB minimum
    # 2M items of one write unit each, and 0.8 GB held two months (61 of 30.4 days)
    assert cost["dynamodb"] == pytest.approx(2.0 + 0.8 * 0.5 * 61 / 30.4)
    assert cost["total"] == pytest.approx(sum(cost[name] for name in ("fargate", "lambda", "step_functions",
                                                                      "athena", "dynamodb")))


def test_an_item_over_a_write_unit_costs_one_unit_per_started_kilobyte():
    assert write_units(10, 1024, PRICES) == 10
    assert write_units(10, 1025, PRICES) == 20
    assert write_units(0, 300, PRICES) == 0


def test_an_item_is_sized_by_its_compact_json_text():
    assert item_bytes({"pk": "customer#C1", "n": 0.5}) == len('{"pk":"customer#C1","n":0.5}')


def test_athena_bills_large_scans_by_the_terabyte():
    usage = RunUsage([], [], 0, athena_queries=2, athena_bytes_per_query=3 * 2**40, serving=NO_LOAD)
    assert run_cost(usage, PRICES)["athena"] == pytest.approx(2 * 3 * 5.0)


def test_the_configured_prices_file_has_every_price_the_formula_reads():
    usage = RunUsage([FargateTask("Training", 100, TRAINING_SIZE)], [LambdaCall("Cleanup", 1, 1024)], 7, 3, 2**20,
                     ServingLoad(1000, 400.0, 35))
    cost = run_cost(usage, load_prices())
    assert all(cost[name] > 0 for name in cost)


def test_lambda_bills_gb_seconds_and_each_request():
    calls = [LambdaCall("Publish", 2.0, 512), LambdaCall("Publish", 0.5, 512)]
    assert lambda_cost(calls, PRICES) == pytest.approx(2.5 * 0.5 * 0.00001 + 2 * 0.20 / 1e6)
    assert lambda_cost([], PRICES) == 0


def test_no_athena_query_costs_nothing_and_a_small_scan_bills_the_minimum():
    assert athena_cost(0, 2**30, PRICES) == 0
    assert athena_cost(1, 0, PRICES) == pytest.approx(10 * 2**20 / 2**40 * 5.0)
    assert athena_cost(1, 10 * 2**20, PRICES) == athena_cost(1, 1, PRICES)  # at the minimum: billed the same


def test_a_task_within_the_free_ephemeral_storage_pays_none_for_it():
    small_disk = FargateTask("InferenceShard", 3600, TaskSize(1024, 4096, ephemeral_gb=20))
    assert fargate_task_cost(small_disk, PRICES) == pytest.approx(1 * 0.04 + 4 * 0.004)


def test_prices_are_read_from_the_file_given(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(PRICES))
    assert load_prices(path) == PRICES
