"""The Fargate tasks on the AWS adapters: training and inference need S3 only, and only what their task roles in
template.yaml grant: every S3 call each task makes against moto is recorded and checked against its role."""
from fnmatch import fnmatchcase

import boto3
import pytest

from pipeline.aws import S3Storage
from pipeline.keys import attempt_prefix, work_prefix
from pipeline.ports import Services
from pipeline.run import Run
from pipeline.settings import load_settings
from pipeline.stages.inference import score_shard
from pipeline.stages.prepare_data import prepare_data
from pipeline.stages.training import train
from pipeline.storage import parquet_row_count
from pipeline.week_lock import hold_week
from tests.conftest import PANEL_CUSTOMERS, prepare_sets
from tests.conftest import BUCKET
from tools.aws_cost import TEMPLATE_PATH, load_template

BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
# The IAM action each S3 API call the adapters make needs.
ACTIONS = {"GetObject": "s3:GetObject", "HeadObject": "s3:GetObject", "PutObject": "s3:PutObject",
           "CreateMultipartUpload": "s3:PutObject", "UploadPart": "s3:PutObject",
           "CompleteMultipartUpload": "s3:PutObject", "ListObjectsV2": "s3:ListBucket",
           "DeleteObject": "s3:DeleteObject"}


class NotGranted:
    """A Glue or Athena client the task role does not allow: any use fails the test."""

    def __init__(self, service: str):
        self.service = service

    def __getattr__(self, name):
        raise AssertionError(f"a Fargate task called {self.service}.{name}; its TaskRole grants S3 only")


def record_s3_calls(client) -> list[tuple[str, str]]:
    """(IAM action, key or listed prefix) of every call made with `client` from now on."""
    calls = []

    def record(params, model, **_):
        if model.name == "DeleteObjects":
            calls.extend(("s3:DeleteObject", item["Key"]) for item in params["Delete"]["Objects"])
        else:
            calls.append((ACTIONS[model.name], params.get("Key", params.get("Prefix", ""))))
    client.meta.events.register("provide-client-params.s3.*", record)
    return calls


def _resolved(resource) -> str:
    if resource == {"Fn::GetAtt": ["DataBucket", "Arn"]}:
        return BUCKET_ARN
    return resource["Fn::Sub"].replace("${DataBucket.Arn}", BUCKET_ARN)


def granted(role: str, action: str, key: str) -> bool:
    """Whether the role's statements allow `action` on `key` (for s3:ListBucket, `key` is the listed prefix)."""
    for policy in load_template(TEMPLATE_PATH)["Resources"][role]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if statement["Effect"] != "Allow" or action not in actions:
                continue
            if action == "s3:ListBucket":
                prefixes = statement["Condition"]["StringLike"]["s3:prefix"]
                if BUCKET_ARN in map(_resolved, resources) and any(fnmatchcase(key, p) for p in prefixes):
                    return True
            elif any(fnmatchcase(f"{BUCKET_ARN}/{key}", _resolved(resource)) for resource in resources):
                return True
    return False


def test_training_and_inference_make_only_the_s3_calls_their_roles_grant(panel, aws):
    run = Run(run_date="2026-03-02", churn_horizon_weeks=4, model_version="v1", execution_name="e1")
    prepared = prepare_data(panel, run)  # locally: Athena cannot run on moto
    prepare_sets(panel, prepared)
    staging = S3Storage(BUCKET, boto3.client("s3"))
    for key in panel.storage.list_keys(work_prefix(run.run_date)):
        staging.write_bytes(key, panel.storage.read_bytes(key))
    hold_week(Services(load_settings(), staging, NotGranted("glue"), NotGranted("athena")), run)  # as Cleanup did
    calls = {}
    for task in ("TrainingTaskRole", "InferenceTaskRole"):
        client = boto3.client("s3")
        calls[task] = record_s3_calls(client)
        s3 = S3Storage(BUCKET, client)
        task_services = Services(load_settings(), s3, NotGranted("glue"), NotGranted("athena"))
        if task == "TrainingTaskRole":
            metrics = train(task_services, run)
        else:
            scored = sum(score_shard(task_services, run, shard) for shard in prepared["shards"])

    assert 0.5 < metrics["auc"] <= 1 and metrics["bayes_auc"] is None  # the reference scores stayed local
    assert scored == PANEL_CUSTOMERS == parquet_row_count(staging, attempt_prefix("predictions", run.run_date, "e1"))
    for role, made in calls.items():
        assert made, role
        refused = sorted({(action, key) for action, key in made if not granted(role, action, key)})
        assert not refused, f"{role} does not grant {refused}"


@pytest.mark.parametrize("role, action, key", [
    ("InferenceTaskRole", "s3:PutObject", "models/model_version=v1/model.ubj"),
    ("InferenceTaskRole", "s3:GetObject", "raw/snapshots/snapshot_date=2026-03-02/part-0.parquet"),
    ("TrainingTaskRole", "s3:PutObject", "results/predictions/run_date=2026-03-02/x.parquet"),
    ("TrainingTaskRole", "s3:DeleteObject", "models/model_version=v1/model.ubj"),
    ("TrainingTaskRole", "s3:ListBucket", "raw/"),
    ("TrainingTaskRole", "s3:GetObject", "models/model_version=v0/model.ubj"),
    ("InferenceTaskRole", "s3:GetObject", "faults/e1/InferenceShard"),
])
def test_a_task_role_refuses_what_its_task_never_does(role, action, key):
    assert not granted(role, action, key)
