"""The Fargate tasks on the AWS adapters: training and inference need S3 only, which is all the TaskRole grants."""
import boto3

from pipeline.aws import S3Storage
from pipeline.keys import attempt_prefix, work_prefix
from pipeline.ports import Services
from pipeline.run import Run
from pipeline.settings import load_settings
from pipeline.stages.inference import score_shard
from pipeline.stages.prepare_data import prepare_data
from pipeline.stages.training import train
from pipeline.storage import parquet_row_count
from tests.conftest import PANEL_CUSTOMERS
from tests.conftest import BUCKET


class NotGranted:
    """A Glue or Athena client the task role does not allow: any use fails the test."""

    def __init__(self, service: str):
        self.service = service

    def __getattr__(self, name):
        raise AssertionError(f"a Fargate task called {self.service}.{name}; its TaskRole grants S3 only")


def test_training_and_inference_touch_s3_only(panel, aws):
    run = Run(run_date="2026-03-02", churn_horizon_weeks=4, model_version="v1", execution_name="e1")
    prepared = prepare_data(panel, run)  # locally: Athena cannot run on moto
    s3 = S3Storage(BUCKET, boto3.client("s3"))
    for key in panel.storage.list_keys(work_prefix(run.run_date)):
        s3.write_bytes(key, panel.storage.read_bytes(key))
    task_services = Services(load_settings(), s3, NotGranted("glue"), NotGranted("athena"))

    metrics = train(task_services, run)
    scored = sum(score_shard(task_services, run, shard) for shard in prepared["shards"])

    assert 0.5 < metrics["auc"] <= 1 and metrics["bayes_auc"] is None  # the reference scores stayed local
    assert scored == PANEL_CUSTOMERS == parquet_row_count(s3, attempt_prefix("predictions", run.run_date, "e1"))
