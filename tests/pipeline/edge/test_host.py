"""Which adapters a process runs with: AWS unless a host installed its own."""
import pytest

from pipeline.aws.athena import AthenaEngine
from pipeline.aws.dynamodb_items import DynamoItems
from pipeline.aws.glue import GlueCatalog
from pipeline.aws.s3 import S3Storage
from pipeline.core.errors import ConfigError
from pipeline.edge.host import current_services, install_host


def test_without_a_host_the_aws_adapters_are_built_from_the_environment(mocked_aws, monkeypatch):
    monkeypatch.setenv("PIPELINE_BUCKET", "churn-data")
    monkeypatch.setenv("ATHENA_WORKGROUP", "analysts")
    monkeypatch.setenv("SERVING_TABLE", "churn-serving")
    services = current_services()
    assert isinstance(services.storage, S3Storage) and services.storage.root == "s3://churn-data"
    assert isinstance(services.catalog, GlueCatalog) and isinstance(services.sql, AthenaEngine)
    assert services.sql.workgroup == "analysts"
    assert isinstance(services.serving, DynamoItems) and services.serving.table_name == "churn-serving"


def test_without_a_host_or_a_bucket_the_error_says_what_is_missing(mocked_aws, monkeypatch):
    monkeypatch.delenv("PIPELINE_BUCKET", raising=False)
    with pytest.raises(ConfigError, match="PIPELINE_BUCKET must name the pipeline's S3 bucket"):
        current_services()


def test_without_a_serving_table_the_services_work_until_the_table_is_used(mocked_aws, monkeypatch):
    monkeypatch.setenv("PIPELINE_BUCKET", "churn-data")
    monkeypatch.delenv("SERVING_TABLE", raising=False)
    services = current_services()  # the CLI's commands never touch it
    with pytest.raises(ConfigError, match="SERVING_TABLE must name the DynamoDB table"):
        services.serving.get_items([("customer#a", "v")])


def test_an_installed_host_supplies_the_services(services):
    install_host(lambda: services)
    assert current_services() is services
