import boto3
import pytest

from pipeline.services import current_services
from tests.conftest import AWS_REGION
from tests.integration.glue_tables import create_glue_tables

BUCKET = "churn-data"


@pytest.fixture
def aws(mocked_aws, monkeypatch):
    monkeypatch.setenv("PIPELINE_RUNTIME", "aws")
    monkeypatch.setenv("PIPELINE_BUCKET", BUCKET)
    boto3.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": AWS_REGION})
    create_glue_tables(boto3.client("glue"), f"s3://{BUCKET}")  # the SAM template does this on AWS
    return current_services()
