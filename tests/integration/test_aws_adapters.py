"""The AWS adapters where moto can stand in: Glue tables from glue/*.json, Athena's UNLOAD output handling."""
import io

import awswrangler as wr
import boto3
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.aws import GlueCatalog
from pipeline.storage import read_parquet
from pipeline.tables import table


def test_glue_tables_match_the_definitions(mocked_aws):
    client = boto3.client("glue")
    GlueCatalog(client, "s3://churn").ensure_tables()
    created = client.get_table(DatabaseName="engagement", Name="predictions")["Table"]
    assert created["StorageDescriptor"]["Location"] == "s3://churn/results/predictions/"
    assert [key["Name"] for key in created["PartitionKeys"]] == ["run_date"]
    assert [column["Name"] for column in created["StorageDescriptor"]["Columns"]] == [
        name for name, _ in table("predictions").columns]


def test_athena_unload_output_without_file_extensions_is_counted_and_read(aws, monkeypatch):
    """Athena's UNLOAD writes extensionless Parquet files; moto cannot run Athena, so stand in for that write."""
    def fake_unload(sql, path, **kwargs):
        for part in range(2):
            sink = io.BytesIO()
            pq.write_table(pa.table({"customer_id": [f"{part}-a", f"{part}-b"]}), sink)
            bucket, key = path.removeprefix("s3://").split("/", 1)
            boto3.client("s3").put_object(Bucket=bucket, Key=f"{key}20261123_0000{part}_abc", Body=sink.getvalue())

    monkeypatch.setattr(wr.athena, "unload", fake_unload)
    assert aws.sql.unload("SELECT customer_id FROM engagement.snapshots", "work/run_date=2026-03-02/training/") == 4
    assert read_parquet(aws.storage, "work/run_date=2026-03-02/training/").num_rows == 4
