"""The CLI with --target aws, run as a user runs it: a real process, pointed at a moto server on localhost through
AWS_ENDPOINT_URL as it would be pointed at AWS.

moto executes the state machine for real (states, Map iterations, history events), but cannot run a Lambda image
or a Fargate task: the definition deployed to it is statemachine/pipeline.asl.json with each Task state replaced by
a Pass state of the same name, position and result shape. What the tasks themselves do on S3 and Glue is tested in
tests/integration/. RedriveExecution is not in moto: `redrive` is tested with botocore's Stubber.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import awswrangler as wr
import boto3
import pandas as pd
import pyarrow as pa
import pytest
import requests
from botocore.stub import Stubber

from lambdas.publish.app import handler as publish
from local_runtime.launcher import STATE_MACHINE_PATH
from pipeline.aws import aws_services
from pipeline.core.errors import PipelineError
from pipeline.core.settings import REPO_ROOT, load_settings
from pipeline.model.features import FeatureSpec
from pipeline.model.store import ModelStore, StoredModel
from pipeline.serving.store import ServedWeek, served_week
from tests.conftest import create_serving_table, write_inference_output
from tests.integration.glue_tables import create_glue_tables
from tools.aws.executions import Executions, HistoryReader

REGION = "eu-west-1"
BUCKET = "churn-pipeline-data"
WEEK = dt.date(2026, 11, 16)
RUN = {"run_date": WEEK.isoformat(), "churn_horizon_weeks": 4, "model_version": "v", "execution_name": "x"}
# What each task's ResultSelector gives, as the Pass state standing in for it returns it.
TASK_RESULTS = {
    "Cleanup": {"run": RUN, "cleanup": {"files_removed": 0}},
    "PrepareData": {"scoring_rows": 30, "shard_count": 3, "shards": [0, 1, 2], "weeks_available": 12,
                    "snapshot_rows": 30, "training_set": {"select": "SELECT 1", "location": "s3://b/t/", "options": ""},
                    "scoring_set": {"select": "SELECT 1", "location": "s3://b/s/", "options": ""},
                    "shard_list_key": "work/run_date=2026-11-16/shards.json",
                    "features": {"week_count": 1, "weeks": {"2026-11-16": {"feature_version": "f1"}},
                                 "unload": {"select": "SELECT 1", "location": "s3://b/f/", "options": ""}}},
    "UnloadFeatures": {"query_execution_id": "q-features"},
    "KeepFeatures": {"weeks_kept": ["2026-11-16"]},
    "UnloadTrainingSet": {"query_execution_id": "q-training"},
    "UnloadScoringSet": {"query_execution_id": "q-scoring"},
    "Training": {"task_arn": "arn:aws:ecs:eu-west-1:123456789012:task/churn/training"},
    "InferenceShard": {"task_arn": "arn:aws:ecs:eu-west-1:123456789012:task/churn/inference"},
    "Publish": {"rows_published": 30, "predictions_location": f"s3://{BUCKET}/results/predictions/", "auc": 0.87,
                "bayes_auc": None},
}
PUBLISHED_METRICS = {"model_version": "v1", "auc": 0.8, "bayes_auc": None, "log_loss": 0.3, "base_rate": 0.1,
                     "validation_week": "2026-10-19", "rows_trained": 10, "rows_validated": 5, "best_iteration": 3,
                     "churn_horizon_weeks": 4}
TASK_ONLY_FIELDS = ("Resource", "Parameters", "ResultSelector", "Retry", "Catch", "TimeoutSeconds",
                    "HeartbeatSeconds", "Credentials")


def tasks_as_passes(states: dict, failing: str | None = None) -> dict:
    """The definition's states with every Task a Pass of the same name and result (or a Fail, for `failing`),
    and no ToleratedFailurePercentage, which moto's parser does not read (0, its value, is also the default)."""
    replaced = {}
    for name, state in states.items():
        state = {key: value for key, value in state.items() if key != "ToleratedFailurePercentage"}
        if "ItemProcessor" in state:
            state["ItemProcessor"] = {**state["ItemProcessor"],
                                      "States": tasks_as_passes(state["ItemProcessor"]["States"], failing)}
        if "Branches" in state:
            state["Branches"] = [{**branch, "States": tasks_as_passes(branch["States"], failing)}
                                 for branch in state["Branches"]]
        if state["Type"] == "Task" and name == failing:
            state = {"Type": "Fail", "Error": "ContainerFailed",  # a Fail state may not raise States.*
                     "Cause": json.dumps({"Containers": [{"Reason": "OutOfMemoryError: Container killed"}]})}
        elif state["Type"] == "Task":
            state = {key: value for key, value in state.items() if key not in TASK_ONLY_FIELDS}
            state |= {"Type": "Pass", "Result": TASK_RESULTS[name]}
        replaced[name] = state
    return replaced


@pytest.fixture(scope="module")
def moto_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_PORT", str(port))  # where moto's executor sends a Distributed Map's S3 calls
        yield url
    # moto's configuration is one per process: leave its default for the in-process mocks of later tests
    requests.post(f"{url}/moto-api/config", json={"stepfunctions": {"execute_state_machine": False}}, timeout=10)
    server.stop()


@pytest.fixture
def account(moto_server, monkeypatch):
    """A fresh moto account with what `make deploy` creates that the CLI touches: the bucket, the Glue tables, the
    state machine. The environment is the one a user sets (or the stack's outputs fill)."""
    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    requests.post(f"{moto_server}/moto-api/config", json={"stepfunctions": {"execute_state_machine": True}},
                  timeout=10)
    environment = {"AWS_ENDPOINT_URL": moto_server, "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
                   "AWS_SECRET_ACCESS_KEY": "testing", "PIPELINE_BUCKET": BUCKET, "ATHENA_WORKGROUP": "primary",
                   "SERVING_TABLE": "churn-serving"}
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    boto3.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    create_glue_tables(boto3.client("glue"), f"s3://{BUCKET}")
    create_serving_table(boto3.client("dynamodb"))
    return environment


def deploy_state_machine(environment: dict, failing: str | None = None) -> str:
    """The definition on moto, and the shard list PrepareData would have written for the Inference Map."""
    prepared = TASK_RESULTS["PrepareData"]
    boto3.client("s3").put_object(Bucket=BUCKET, Key=prepared["shard_list_key"],
                                  Body=json.dumps(prepared["shards"]).encode())
    definition = json.loads(STATE_MACHINE_PATH.read_text().replace("${DataBucketName}", BUCKET))
    definition["States"] = tasks_as_passes(definition["States"], failing)
    arn = boto3.client("stepfunctions").create_state_machine(
        name="churn-pipeline", definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/churn-pipeline-state-machine")["stateMachineArn"]
    environment["PIPELINE_STATE_MACHINE_ARN"] = arn
    return arn


def cli(environment: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.cli.app", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          env=os.environ | environment, timeout=120)


def run_on_aws(environment: dict, *args: str) -> subprocess.CompletedProcess:
    return cli(environment, "run", "--target", "aws", "--poll-seconds", "0.1", *args)


@pytest.mark.slow
def test_run_starts_the_weeks_execution_and_follows_every_state_to_the_end(account):
    deploy_state_machine(account)

    done = run_on_aws(account, "--run-date", WEEK.isoformat())

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].endswith(":execution:churn-pipeline:week-2026-11-16")
    started = [line.removesuffix(" started") for line in lines if line.endswith(" started")]
    assert started[:7] == ["Cleanup", "PrepareData", "FeaturesToCompute", "PrepareFeatures", "UnloadFeatures",
                           "KeepFeatures", "PrepareSets"]
    assert sorted(started[7:9]) == ["UnloadScoringSet", "UnloadTrainingSet"]  # the two branches, at once
    assert started[9:] == ["Training", "Inference", "Publish", "Done"]
    assert any(line.startswith("Inference done in") and line.endswith(", 3 of 3 item(s) in child executions")
               for line in lines)  # a Distributed Map: each shard a child execution
    assert lines[-1] == "execution week-2026-11-16 succeeded"


@pytest.mark.slow
def test_a_second_start_of_the_week_is_refused_and_rerun_starts_another(account):
    deploy_state_machine(account)
    assert run_on_aws(account, "--run-date", WEEK.isoformat()).returncode == 0

    again = run_on_aws(account, "--run-date", WEEK.isoformat())
    rerun = run_on_aws(account, "--run-date", WEEK.isoformat(), "--rerun")

    assert again.returncode == 2
    assert "week already started: execution week-2026-11-16 (SUCCEEDED)" in again.stderr
    assert "--rerun" in again.stderr
    assert rerun.returncode == 0, rerun.stderr
    assert ":execution:churn-pipeline:week-2026-11-16-rerun-" in rerun.stdout.splitlines()[0]
    listed = cli(account, "runs", "--target", "aws")
    assert listed.returncode == 0 and "week-2026-11-16 " in listed.stdout and "week-2026-11-16-rerun-" in listed.stdout
    assert listed.stdout.count("SUCCEEDED") == 2


@pytest.mark.slow
def test_a_failed_execution_is_reported_with_its_cause_and_how_to_redrive_it(account):
    deploy_state_machine(account, failing="Training")

    failed = run_on_aws(account, "--run-date", WEEK.isoformat())

    assert failed.returncode == 1
    assert "Training started" in failed.stdout and "Publish started" not in failed.stdout
    assert "execution week-2026-11-16 FAILED" in failed.stderr
    assert "OutOfMemoryError: Container killed" in failed.stderr
    assert "redrive week-2026-11-16 --target aws" in failed.stderr
    listed = cli(account, "runs", "--target", "aws")
    assert "week-2026-11-16: ContainerFailed: OutOfMemoryError: Container killed" in listed.stdout


@pytest.mark.slow
def test_ingest_lands_the_file_and_its_partition_and_run_takes_that_week(account, tmp_path):
    deploy_state_machine(account)
    path = tmp_path / "week.csv"
    pd.DataFrame({"customer_id": ["a", "b", "c"], "sessions_7d": [3, 0, 1]}).to_csv(path, index=False)

    landed = cli(account, "ingest", str(path), "--snapshot-date", WEEK.isoformat(), "--target", "aws")

    assert landed.returncode == 0, landed.stderr
    partitions = boto3.client("glue").get_partitions(DatabaseName="engagement", TableName="snapshots")["Partitions"]
    assert [partition["Values"] for partition in partitions] == [[WEEK.isoformat()]]
    frame = wr.s3.read_parquet(partitions[0]["StorageDescriptor"]["Location"])
    assert sorted(frame["customer_id"]) == ["a", "b", "c"] and frame["sessions_7d"].sum() == 4
    started = run_on_aws(account, "--no-follow")  # no --run-date: the newest landed week
    assert started.returncode == 0 and started.stdout.strip().endswith(":week-2026-11-16")


def test_without_a_state_machine_the_error_says_what_to_set(account):
    done = run_on_aws({**account, "PIPELINE_STACK": "no-such-stack"}, "--run-date", WEEK.isoformat())

    assert done.returncode == 2
    assert "cannot read the outputs of stack no-such-stack" in done.stderr
    assert "PIPELINE_STATE_MACHINE_ARN" in done.stderr


MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:churn-pipeline"
EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:churn-pipeline:week-2026-11-16"


@pytest.fixture
def stubbed():
    client = boto3.client("stepfunctions", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield Executions(client, MACHINE), stubber


def test_redrive_continues_the_named_execution(stubbed):
    executions, stubber = stubbed
    stubber.add_response("redrive_execution", {"redriveDate": dt.datetime(2026, 11, 17)},
                         {"executionArn": EXECUTION})

    assert executions.redrive("week-2026-11-16") == EXECUTION
    stubber.assert_no_pending_responses()


def test_an_execution_that_cannot_be_redriven_says_why_and_what_to_do(stubbed):
    executions, stubber = stubbed
    stubber.add_client_error("redrive_execution", "ExecutionNotRedrivable",
                             "Execution is RUNNING and cannot be redriven")

    with pytest.raises(PipelineError, match="cannot be redriven: Execution is RUNNING.*--rerun"):
        executions.redrive("week-2026-11-16")


def test_the_history_reader_counts_map_iterations_and_names_the_failing_state():
    at = dt.datetime(2026, 11, 16, 6, 0)
    events = [
        {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "Training"}, "timestamp": at},
        {"type": "TaskFailed", "taskFailedEventDetails": {"error": "States.TaskFailed", "cause": "boom"},
         "timestamp": at},
        {"type": "TaskStateExited", "stateExitedEventDetails": {"name": "Training"},
         "timestamp": at + dt.timedelta(seconds=90)},
        {"type": "MapStateEntered", "stateEnteredEventDetails": {"name": "Inference"}, "timestamp": at},
        *[event for _ in range(2) for event in (
            {"type": "MapIterationStarted", "timestamp": at},
            {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "InferenceShard"}, "timestamp": at},
            {"type": "TaskStateExited", "stateExitedEventDetails": {"name": "InferenceShard"}, "timestamp": at},
            {"type": "MapIterationSucceeded", "timestamp": at})],
        {"type": "MapStateExited", "stateExitedEventDetails": {"name": "Inference"},
         "timestamp": at + dt.timedelta(seconds=30)},
    ]
    reader = HistoryReader()

    lines = [line for event in events if (line := reader.line(event))]

    assert lines == ["Training started", "  Training TaskFailed: States.TaskFailed: boom", "Training done in 90.0s",
                     "Inference started", "Inference done in 30.0s, 2 iteration(s)"]


def test_a_published_week_is_in_s3_and_glue_and_reads_back_with_awswrangler(account):
    """Publish's handler, in this process, on the same moto server (what the Publish state's Lambda does on AWS)."""
    services = aws_services(load_settings())
    ModelStore(services.storage).save(
        StoredModel("v1", b"model", FeatureSpec(["sessions_7d"], {}), {}, PUBLISHED_METRICS),
        pa.table({"customer_id": ["a"], "churned": [1], "churn_probability": [0.5]}))
    write_inference_output(services, WEEK, "week-2026-11-16", 3, probability=[0.9, 0.4, 0.1])

    published = publish({"run": RUN | {"execution_name": "week-2026-11-16", "model_version": "v1"},
                         "expected_rows": 3, "execution_id": f"{MACHINE}:week-2026-11-16".replace(
                             ":stateMachine:", ":execution:")})

    partitions = wr.catalog.get_partitions(database="engagement", table="predictions")
    assert list(partitions.values()) == [[WEEK.isoformat()]]
    (location,) = partitions
    assert location == published["predictions_location"]
    frame = wr.s3.read_parquet(location)
    assert frame.sort_values("customer_id")["churn_probability"].tolist() == [0.9, 0.4, 0.1]
    metrics = wr.s3.read_parquet(next(iter(wr.catalog.get_partitions(database="engagement", table="model_metrics"))))
    assert metrics["auc"].tolist() == [0.8] and metrics["rows_scored"].tolist() == [3]
    summary = wr.s3.read_parquet(next(iter(wr.catalog.get_partitions(database="engagement",
                                                                     table="weekly_summary"))))
    overall = summary[summary["segment_type"] == "all"]
    assert overall["customers"].tolist() == [3] and overall["share_high_risk"].tolist() == [pytest.approx(1 / 3)]
    assert served_week(services.serving) == ServedWeek(WEEK.isoformat(), "week-2026-11-16", "v1",
                                                       served_week(services.serving).published_at, 3)
