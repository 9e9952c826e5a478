"""The AWS adapters beyond the port contract: Athena's UNLOAD output (written here as Athena writes it, since moto
cannot run Athena) and Glue's publish across tables."""
import io

import awswrangler as wr
import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.storage import read_parquet
from pipeline.tables import table


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


def test_glue_publish_puts_the_first_table_back_when_the_second_fails(aws, monkeypatch):
    """Glue has no transaction across tables; a refused second swap must not leave a mix."""
    value = "2026-03-02"
    predictions, metrics = table("predictions"), table("model_metrics")
    aws.catalog.publish_partitions(value, {predictions: "s3://churn-data/p/old/", metrics: "s3://churn-data/m/old/"})
    put_partition = aws.catalog.put_partition

    def throttled(definition, partition_value, location):
        if location == "s3://churn-data/m/new/":
            raise RuntimeError("ThrottlingException")
        put_partition(definition, partition_value, location)

    monkeypatch.setattr(aws.catalog, "put_partition", throttled)
    with pytest.raises(RuntimeError, match="ThrottlingException"):
        aws.catalog.publish_partitions(value, {predictions: "s3://churn-data/p/new/",
                                               metrics: "s3://churn-data/m/new/"})
    assert aws.catalog.partitions(predictions) == {value: "s3://churn-data/p/old/"}
    assert aws.catalog.partitions(metrics) == {value: "s3://churn-data/m/old/"}

