"""Which adapters a process runs with: AWS unless a host installed its own."""
import pytest

from pipeline.aws import AthenaEngine, GlueCatalog, S3Storage
from pipeline.core.errors import ConfigError
from pipeline.edge.host import current_services, install_host


def test_without_a_host_the_aws_adapters_are_built_from_the_environment(mocked_aws, monkeypatch):
    monkeypatch.setenv("PIPELINE_BUCKET", "churn-data")
    monkeypatch.setenv("ATHENA_WORKGROUP", "analysts")
    services = current_services()
    assert isinstance(services.storage, S3Storage) and services.storage.root == "s3://churn-data"
    assert isinstance(services.catalog, GlueCatalog) and isinstance(services.sql, AthenaEngine)
    assert services.sql.workgroup == "analysts"


def test_without_a_host_or_a_bucket_the_error_says_what_is_missing(mocked_aws, monkeypatch):
    monkeypatch.delenv("PIPELINE_BUCKET", raising=False)
    with pytest.raises(ConfigError, match="PIPELINE_BUCKET must name the pipeline's S3 bucket"):
        current_services()


def test_an_installed_host_supplies_the_services(services):
    install_host(lambda: services)
    assert current_services() is services
