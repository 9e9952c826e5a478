"""The Catalog port's contract on both adapters (the local JSON catalog, Glue on moto)."""
import boto3
import pytest

from local_runtime.local_catalog import LocalCatalog
from pipeline.aws.glue import GlueCatalog
from pipeline.warehouse.tables import table
from tests.integration.glue_tables import create_glue_tables


@pytest.fixture(params=["local", "glue"])
def catalog(request, tmp_path):
    if request.param == "local":
        return LocalCatalog(tmp_path / "catalog.json", tmp_path / "warehouse")
    request.getfixturevalue("mocked_aws")
    create_glue_tables(boto3.client("glue"), "s3://churn")
    return GlueCatalog(boto3.client("glue"))


def test_put_partition_creates_then_swaps_location(catalog):
    predictions = table("predictions")
    catalog.put_partition(predictions, "2026-01-05", "s3://churn/results/predictions/run_date=2026-01-05/a/")
    catalog.put_partition(predictions, "2026-01-12", "s3://churn/results/predictions/run_date=2026-01-12/a/")
    catalog.put_partition(predictions, "2026-01-05", "s3://churn/results/predictions/run_date=2026-01-05/b/")
    assert catalog.partitions(predictions) == {
        "2026-01-05": "s3://churn/results/predictions/run_date=2026-01-05/b/",
        "2026-01-12": "s3://churn/results/predictions/run_date=2026-01-12/a/",
    }
    assert catalog.partitions(table("model_metrics")) == {}


def test_drop_partition_is_idempotent(catalog):
    snapshots = table("snapshots")
    catalog.put_partition(snapshots, "2026-01-05", "s3://churn/raw/snapshots/snapshot_date=2026-01-05/x/")
    catalog.drop_partition(snapshots, "2026-01-05")
    catalog.drop_partition(snapshots, "2026-01-05")
    assert catalog.partitions(snapshots) == {}
