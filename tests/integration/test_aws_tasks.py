"""The Fargate tasks on the AWS adapters: training needs S3 only, inference S3 and the serving table, and only what
their task roles in template.yaml grant: every call each task makes against moto is recorded and checked against
its role."""
import boto3
import pytest

from pipeline.aws.dynamodb_items import DynamoItems
from pipeline.aws.s3 import S3Storage
from pipeline.core.settings import load_settings
from pipeline.execution.identity import Run
from pipeline.execution.week_lock import hold_week
from pipeline.stages.inference import score_shard
from pipeline.stages.prepare_data import prepare_data
from pipeline.stages.training import train
from pipeline.warehouse.layout import attempt_prefix, work_prefix
from pipeline.warehouse.objects import parquet_row_count
from pipeline.warehouse.ports import Services
from tests.conftest import BUCKET, PANEL_CUSTOMERS, prepare_sets
from tests.integration.iam import granted, recording_calls


class NotGranted:
    """A client the task role does not allow (Glue, Athena...): any use fails the test."""

    def __init__(self, service: str):
        self.service = service

    def __getattr__(self, name):
        raise AssertionError(f"a Fargate task called {self.service}.{name}; its TaskRole does not grant it")


@pytest.mark.slow
def test_training_and_inference_make_only_the_s3_calls_their_roles_grant(panel, aws, monkeypatch):
    run = Run(run_date="2026-03-02", churn_horizon_weeks=4, model_version="v1", execution_name="e1")
    prepared = prepare_data(panel, run)  # locally: Athena cannot run on moto
    prepare_sets(panel, run, prepared)
    staging = S3Storage(BUCKET, boto3.client("s3"))
    for key in [*panel.storage.list_keys(work_prefix(run)), *panel.storage.list_keys("publications/snapshots/")]:
        staging.write_bytes(key, panel.storage.read_bytes(key))
    settings = load_settings()
    hold_week(Services(settings, staging, NotGranted("glue"), NotGranted("athena"), NotGranted("states"),
                       NotGranted("dynamodb")), run)  # as Cleanup did
    with recording_calls(monkeypatch) as recorder:
        task_services = Services(settings, S3Storage(BUCKET, boto3.client("s3")), NotGranted("glue"),
                                 NotGranted("athena"), NotGranted("states"),
                                 DynamoItems(settings.serving_table, boto3.client("dynamodb")))
        with recorder.as_role("TrainingTaskRole"):
            metrics = train(task_services, run)
        with recorder.as_role("InferenceTaskRole"):
            scored = sum(score_shard(task_services, run, shard) for shard in prepared["shards"])

    assert 0.5 < metrics["auc"] <= 1 and metrics["bayes_auc"] is None  # the reference scores stayed local
    assert scored == PANEL_CUSTOMERS == parquet_row_count(staging, attempt_prefix("predictions", run.run_date, "e1"))
    assert set(recorder.calls) == {"TrainingTaskRole", "InferenceTaskRole"}
    assert ("dynamodb:BatchWriteItem", "") in recorder.calls["InferenceTaskRole"]  # its customers, for the API
    assert recorder.refused() == {}


@pytest.mark.parametrize("role, action, key", [
    ("InferenceTaskRole", "s3:PutObject", "models/model_version=v1/model.ubj"),
    ("InferenceTaskRole", "s3:GetObject", "raw/snapshots/snapshot_date=2026-03-02/part-0.parquet"),
    ("TrainingTaskRole", "s3:PutObject", "results/predictions/run_date=2026-03-02/x.parquet"),
    ("TrainingTaskRole", "s3:DeleteObject", "models/model_version=v1/model.ubj"),
    ("TrainingTaskRole", "s3:ListBucket", "raw/"),
    ("TrainingTaskRole", "s3:GetObject", "results/predictions/run_date=2026-03-02/x.parquet"),
    ("InferenceTaskRole", "s3:GetObject", "faults/e1/InferenceShard"),
])
def test_a_task_role_refuses_what_its_task_never_does(role, action, key):
    assert not granted(role, action, key)
