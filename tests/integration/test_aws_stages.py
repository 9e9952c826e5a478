"""The AWS code paths (S3 storage, Glue catalog) of ingest, cleanup, publish and record_failure, against moto.

No host is installed, so the handlers build the AWS adapters from their environment, exactly as in Lambda.
"""
import base64
import datetime as dt
import hashlib
import json
from dataclasses import replace

import boto3
import pandas as pd
import pyarrow as pa
import pytest

from lambdas.cleanup.app import handler as cleanup
from lambdas.publish.app import handler as publish
from lambdas.record_failure.app import handler as record_failure
from pipeline.aws import aws_services
from pipeline.aws.glue import GlueCatalog
from pipeline.core.errors import DataQualityError
from pipeline.core.settings import load_settings
from pipeline.execution.identity import Run
from pipeline.execution.week_lock import WeekLockedError
from pipeline.model.features import FeatureSpec
from pipeline.model.store import ModelStore, StoredModel
from pipeline.stages.prepare_data import prepare_data
from pipeline.warehouse.layout import attempt_prefix
from pipeline.warehouse.publication import changed_files, recorded
from tests.conftest import BUCKET, write_inference_output
from tests.integration.iam import granted, recording_calls
from tools.cli.app import main

WEEK = dt.date(2026, 3, 2)


def glue_partitions(table_name: str) -> dict[str, str]:
    partitions = boto3.client("glue").get_partitions(DatabaseName="engagement", TableName=table_name)["Partitions"]
    return {part["Values"][0]: part["StorageDescriptor"]["Location"] for part in partitions}


def test_ingest_lands_in_s3_and_registers_the_glue_partition(aws, tmp_path):
    path = tmp_path / "week.csv"
    pd.DataFrame({"customer_id": ["a", "b"], "sessions_7d": [1, 0]}).to_csv(path, index=False)
    assert main(["ingest", str(path), "--snapshot-date", WEEK.isoformat()]) == 0
    location = glue_partitions("snapshots")[WEEK.isoformat()]
    assert location.startswith(f"s3://{BUCKET}/raw/snapshots/snapshot_date=2026-03-02/")
    keys = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="raw/snapshots/")["Contents"]
    assert len(keys) == 1 and keys[0]["Key"].endswith("part-0.parquet")


def _write_inference_output(services, execution: str, rows: int) -> None:
    write_inference_output(services, WEEK, execution, rows, probability=[0.5] * rows)


METRICS = {"model_version": "v1", "auc": 0.8, "bayes_auc": None, "log_loss": 0.3, "base_rate": 0.1,
           "validation_week": "2026-02-02", "rows_trained": 10, "rows_validated": 5, "best_iteration": 3,
           "churn_horizon_weeks": 4}


def test_publish_swaps_the_glue_partition_and_cleanup_removes_leftovers(aws):
    ModelStore(aws.storage).save(StoredModel("v1", b"model", FeatureSpec(["sessions_7d"], {}), {}, METRICS),
                                 pa.table({"customer_id": ["a"], "churned": [1], "churn_probability": [0.5]}))
    run = {"run_date": WEEK.isoformat(), "churn_horizon_weeks": 4, "model_version": "v1"}
    for execution in ("first", "second"):
        _write_inference_output(aws, execution, rows=3)
        publish({"run": {**run, "execution_name": execution}, "expected_rows": 3,
                 "execution_id": execution_arn(execution)})
    assert glue_partitions("predictions")[WEEK.isoformat()].endswith("execution=second/")
    assert glue_partitions("model_metrics")[WEEK.isoformat()].endswith("execution=second/")
    assert aws.storage.list_keys(attempt_prefix("predictions", WEEK, "first"))  # kept for queries in flight

    _write_inference_output(aws, "failed", rows=2)  # a run that died before publishing
    with pytest.raises(DataQualityError, match="inference wrote 2 predictions"):
        publish({"run": {**run, "execution_name": "failed"}, "expected_rows": 3,
                 "execution_id": execution_arn("failed")})
    assert glue_partitions("predictions")[WEEK.isoformat()].endswith("execution=second/")
    with pytest.raises(WeekLockedError, match="being run by execution failed"):  # until its failure is recorded
        cleanup({"input": {"run_date": WEEK.isoformat()}, "execution_name": "next"})
    recorded = record_failure(execution_ended("failed", "DataQualityError", "inference wrote 2 predictions"))
    assert recorded["weeks_released"] == ["locks/run_date=2026-03-02.json"] and recorded["run_date"] == "2026-03-02"
    cleaned = cleanup({"input": {"run_date": WEEK.isoformat()}, "execution_name": "next"})
    # first's predictions, metrics, weekly summary, data-quality and realized-performance files; failed's
    # predictions and work are kept: it can still be redriven
    assert cleaned["files_removed"] == 5 and cleaned["run"]["run_date"] == WEEK.isoformat()
    assert aws.storage.list_keys("results/predictions/") == [
        f"{attempt_prefix('predictions', WEEK, execution)}shard-00000.parquet" for execution in ("failed", "second")]


def execution_arn(name: str) -> str:
    return f"arn:aws:states:eu-west-1:123456789012:execution:churn-pipeline-pipeline:{name}"


def execution_ended(name: str, error: str, cause: str) -> dict:
    """What the template's EventBridge rule delivers when an execution fails."""
    return {"source": "aws.states", "detail-type": "Step Functions Execution Status Change",
            "detail": {"executionArn": execution_arn(name),
                       "name": name, "status": "FAILED", "input": json.dumps({"run_date": WEEK.isoformat()}),
                       "error": error, "cause": cause}}


def test_record_failure_writes_to_the_bucket(aws):
    record_failure(execution_ended("e1", "States.TaskFailed", "boom"))
    body = json.loads(boto3.client("s3").get_object(Bucket=BUCKET, Key="runs/failures/e1.json")["Body"].read())
    assert (body["cause"], body["error"], body["status"], body["input"]) == (
        "boom", "States.TaskFailed", "FAILED", {"run_date": "2026-03-02"})


def test_a_landed_object_keeps_its_sha256_in_s3_and_a_replaced_one_is_caught(aws, tmp_path):
    path = tmp_path / "week.csv"
    pd.DataFrame({"customer_id": ["a", "b"], "sessions_7d": [1, 0]}).to_csv(path, index=False)
    assert main(["ingest", str(path), "--snapshot-date", WEEK.isoformat()]) == 0
    record = recorded(aws.storage, "snapshots", WEEK.isoformat())
    [(key, checksum)] = record.checksums.items()
    assert checksum == base64.b64encode(hashlib.sha256(aws.storage.read_bytes(key)).digest()).decode()
    assert changed_files(aws.storage, record) == []
    aws.storage.write_bytes(key, b"not the landed file")
    [problem] = changed_files(aws.storage, record)
    assert f"s3://{BUCKET}/{key} changed since it was landed" in problem


class Killed(BaseException):
    """The Lambda dying mid-call: nothing after it runs, not even an `except Exception`."""


def test_a_publish_killed_between_two_glue_updates_is_finished_by_record_failure(aws, monkeypatch):
    ModelStore(aws.storage).save(StoredModel("v1", b"model", FeatureSpec(["sessions_7d"], {}), {}, METRICS),
                                 pa.table({"customer_id": ["a"], "churned": [1], "churn_probability": [0.5]}))
    run = {"run_date": WEEK.isoformat(), "churn_horizon_weeks": 4, "model_version": "v1"}
    _write_inference_output(aws, "first", rows=3)
    publish({"run": {**run, "execution_name": "first"}, "expected_rows": 3,
                 "execution_id": execution_arn("first")})
    _write_inference_output(aws, "second", rows=3)
    put_partition = GlueCatalog.put_partition

    def dies_on_the_metrics_table(catalog, definition, value, location):
        if definition.name == "model_metrics":
            raise Killed()
        put_partition(catalog, definition, value, location)

    monkeypatch.setattr(GlueCatalog, "put_partition", dies_on_the_metrics_table)
    with pytest.raises(Killed):
        publish({"run": {**run, "execution_name": "second"}, "expected_rows": 3,
                 "execution_id": execution_arn("second")})
    assert glue_partitions("model_metrics")[WEEK.isoformat()].endswith("execution=first/")  # the mix, for now
    monkeypatch.setattr(GlueCatalog, "put_partition", put_partition)
    recorded_failure = record_failure(execution_ended("second", "Lambda.Unknown", "killed"))
    assert recorded_failure["publication_finished"] == [
        "model_metrics", "qa_predictions", "weekly_summary", "data_quality", "realized_performance"]
    assert {glue_partitions(name)[WEEK.isoformat()].rsplit("/", 2)[-2] for name in ("predictions", "model_metrics")
            } == {"execution=second"}


class AnsweredByAthena:
    """Athena for PrepareData's one query (moto cannot run SQL): the weeks the test landed, as Athena counts them."""

    def __init__(self, weeks: list[dt.date], customers: int):
        self.rows = [{"snapshot_date": week, "customers": customers, "distinct_customers": customers,
                      "active_customers": customers} for week in weeks]

    def query(self, sql: str) -> pa.Table:
        return pa.Table.from_pylist(self.rows)


@pytest.mark.slow
def test_every_lambda_makes_only_the_calls_its_role_grants(aws, tmp_path, monkeypatch):
    """Each handler's S3 and Glue calls, on moto, against its function's statements in template.yaml: a week
    landed, cleaned, prepared, published twice (the second killed between its Glue updates and finished by
    RecordFailure), then cleaned again (which removes the replaced folders)."""
    weeks = [WEEK - dt.timedelta(weeks=back) for back in range(8, -1, -1)]
    for week in weeks:
        path = tmp_path / f"{week}.csv"
        pd.DataFrame({"customer_id": ["a", "b", "c"], "sessions_7d": [1, 0, 2]}).to_csv(path, index=False)
        assert main(["ingest", str(path), "--snapshot-date", week.isoformat()]) == 0
    ModelStore(aws.storage).save(StoredModel("v1", b"model", FeatureSpec(["sessions_7d"], {}), {}, METRICS),
                                 pa.table({"customer_id": ["a"], "churned": [1], "churn_probability": [0.5]}))
    run = {"run_date": WEEK.isoformat(), "churn_horizon_weeks": 4, "model_version": "v1"}
    put_partition = GlueCatalog.put_partition

    def dies_on_the_metrics_table(catalog, definition, value, location):
        if definition.name == "model_metrics":
            raise Killed()
        put_partition(catalog, definition, value, location)

    with recording_calls(monkeypatch) as recorder:
        with recorder.as_role("CleanupFunction"):
            cleanup({"input": {"run_date": WEEK.isoformat()}, "execution_name": "first"})
        with recorder.as_role("PrepareDataFunction"):
            services = replace(aws_services(load_settings()), sql=AnsweredByAthena(weeks, customers=3))
            prepare_data(services, Run.model_validate({**run, "execution_name": "first"}))
        _write_inference_output(aws, "first", rows=3)
        with recorder.as_role("PublishFunction"):
            publish({"run": {**run, "execution_name": "first"}, "expected_rows": 3,
                 "execution_id": execution_arn("first")})
        with recorder.as_role("CleanupFunction"):
            cleanup({"input": {"run_date": WEEK.isoformat()}, "execution_name": "second"})
        _write_inference_output(aws, "second", rows=3)
        monkeypatch.setattr(GlueCatalog, "put_partition", dies_on_the_metrics_table)
        with recorder.as_role("PublishFunction"), pytest.raises(Killed):
            publish({"run": {**run, "execution_name": "second"}, "expected_rows": 3,
                 "execution_id": execution_arn("second")})
        monkeypatch.setattr(GlueCatalog, "put_partition", put_partition)
        with recorder.as_role("RecordFailureFunction"):
            finished = record_failure(execution_ended("second", "Lambda.Unknown", "killed"))
        with recorder.as_role("CleanupFunction"):
            cleaned = cleanup({"input": {"run_date": WEEK.isoformat()}, "execution_name": "third"})

    assert finished["publication_finished"] == [
        "model_metrics", "qa_predictions", "weekly_summary", "data_quality", "realized_performance"]
    assert cleaned["files_removed"] >= 2
    assert set(recorder.calls) == {"CleanupFunction", "PrepareDataFunction", "PublishFunction",
                                   "RecordFailureFunction"}
    assert ("glue:UpdatePartition", "") in recorder.calls["RecordFailureFunction"]  # finishing the publication
    for role in ("PublishFunction", "RecordFailureFunction"):  # each state's seconds, for the runs row
        assert ("states:GetExecutionHistory", "") in recorder.calls[role]
    assert recorder.refused() == {}


@pytest.mark.parametrize("function, action, key", [
    ("PublishFunction", "s3:DeleteObject", "models/model_version=v1/model.ubj"),
    ("PrepareDataFunction", "s3:PutObject", "work/run_date=2026-03-02/training/attempt=0/x"),
    ("RecordFailureFunction", "s3:PutObject", "results/predictions/run_date=2026-03-02/x.parquet"),
    ("RecordFailureFunction", "glue:DeletePartition", ""),
    ("CleanupFunction", "s3:DeleteObject", "raw/snapshots/snapshot_date=2026-03-02/landed-1/part-0.parquet"),
    ("CleanupFunction", "s3:DeleteObject", "publications/results/2026-03-02.json"),
])
def test_a_function_role_refuses_what_its_handler_never_does(function, action, key):
    assert not granted(function, action, key)
