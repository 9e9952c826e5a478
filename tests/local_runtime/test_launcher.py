"""The local launcher: what it gives the definition, and how a task's failure reaches the execution."""
import json
import re

import pytest

from local_runtime.asl import TaskFailed, load_state_machine
from local_runtime.launcher import (
    ATHENA_START_QUERY_SYNC,
    ECS_RUN_TASK_SYNC,
    STATE_MACHINE_PATH,
    LocalTaskInvoker,
    _failure_reason,
    check_fault_states,
    local_substitutions,
    states_running_pipeline_code,
    task_environment,
)
from pipeline.core.errors import ConfigError
from pipeline.warehouse.objects import newest_attempt, read_parquet
from pipeline.warehouse.sql import unload_set, unload_statement
from tests.conftest import land_weeks

RUN = {"run_date": "2026-03-02", "churn_horizon_weeks": 4, "model_version": "v", "execution_name": "e"}


def test_every_placeholder_of_the_definition_has_a_local_value():
    placeholders = set(re.findall(r"\$\{([^}]+)\}", STATE_MACHINE_PATH.read_text()))
    assert placeholders == set(local_substitutions())


def test_faults_can_be_injected_in_the_states_that_run_pipeline_code_nested_ones_too():
    machine = load_state_machine(STATE_MACHINE_PATH, local_substitutions())
    # InferenceShard runs in the Map's ItemProcessor; UnloadTrainingSet, in a Parallel branch, is an Athena query
    assert states_running_pipeline_code(machine.graph) == {"Cleanup", "PrepareData", "KeepFeatures", "Training",
                                                           "InferenceShard", "Publish"}


@pytest.mark.parametrize("faults", ["Nope:once", "UnloadTrainingSet:always", "Inference:once,Publish:once"])
def test_a_fault_in_a_state_that_runs_no_pipeline_code_is_refused_naming_it(monkeypatch, faults):
    monkeypatch.setenv("PIPELINE_FAULTS", faults)
    unknown = faults.split(":")[0]
    with pytest.raises(ConfigError, match=f"PIPELINE_FAULTS names {unknown}, not a state"):
        check_fault_states()


def test_the_failure_reason_is_the_tasks_last_error_line(tmp_path):
    log = tmp_path / "task.log"
    log.write_text("\n".join([
        json.dumps({"level": "INFO", "message": "start"}),
        "a line that is not JSON",
        json.dumps({"level": "ERROR", "error_type": "DataQualityError", "error_message": "week 3 is missing"}),
    ]))
    assert _failure_reason(log) == "DataQualityError: week 3 is missing"
    log.write_text("Segmentation fault\n")
    assert _failure_reason(log) == "Segmentation fault"  # no error line: the log's tail


def test_a_failed_container_fails_the_task_like_ecs_with_the_reason(services, home, tmp_path):
    invoker = LocalTaskInvoker(task_environment(home), tmp_path / "logs", services)
    parameters = {"TaskDefinition": "arn:aws:ecs:local:0:task-definition/training",
                  "Overrides": {"ContainerOverrides": [{"Name": "training", "Environment": [
                      {"Name": "RUN", "Value": json.dumps({**RUN, "run_date": "not-a-date"})}]}]}}
    with pytest.raises(TaskFailed) as failure:
        invoker(ECS_RUN_TASK_SYNC, parameters, {"State": {"Name": "Training"}})
    assert failure.value.error == "States.TaskFailed"
    cause = json.loads(failure.value.cause)
    assert cause["StopCode"] == "EssentialContainerExited" and cause["Containers"][0]["ExitCode"] == 2
    assert cause["Containers"][0]["Reason"] == ("EventError: RUN environment variable: run_date: must be a date "
                                                "YYYY-MM-DD, got 'not-a-date'")
    assert cause["LogFile"].startswith(str(tmp_path / "logs" / "Training-"))


def test_a_resource_the_launcher_cannot_run_is_a_runtime_error(services, home, tmp_path):
    invoker = LocalTaskInvoker(task_environment(home), tmp_path, services)
    with pytest.raises(TaskFailed, match="cannot run resource arn:aws:states:::sqs:sendMessage"):
        invoker("arn:aws:states:::sqs:sendMessage", {}, {})


def test_an_athena_unload_runs_on_duckdb_and_a_second_into_the_same_folder_fails_as_on_athena(services, home,
                                                                                               tmp_path):
    land_weeks(services, {"a": [1], "b": [0], "c": [2]})
    invoker = LocalTaskInvoker(task_environment(home), tmp_path, services)
    unload = unload_set("SELECT customer_id, sessions_7d % 2 AS shard FROM engagement.snapshots -- a comment",
                        services.storage.uri("work/sets/"), "shard")
    parameters = {"QueryString": unload_statement(unload, attempt=0), "WorkGroup": "local"}

    done = invoker(ATHENA_START_QUERY_SYNC, parameters, {})

    assert done["QueryExecution"]["Status"]["State"] == "SUCCEEDED" and done["QueryExecution"]["QueryExecutionId"]
    newest = newest_attempt(services.storage, "work/sets/")
    assert newest == "work/sets/attempt=0/"
    assert sorted(read_parquet(services.storage, newest).column("customer_id").to_pylist()) == ["a", "b", "c"]
    with pytest.raises(TaskFailed) as failure:
        invoker(ATHENA_START_QUERY_SYNC, parameters, {})
    assert failure.value.error == "States.TaskFailed"
    status = json.loads(failure.value.cause)["QueryExecution"]["Status"]
    assert status["State"] == "FAILED" and "HIVE_PATH_ALREADY_EXISTS" in status["StateChangeReason"]
    invoker(ATHENA_START_QUERY_SYNC, {"QueryString": unload_statement(unload, attempt=1)}, {})  # its redrive
    assert newest_attempt(services.storage, "work/sets/") == "work/sets/attempt=1/"
