"""The AWS adapters where moto cannot stand in: Athena's UNLOAD output, written here as Athena writes it."""
import io

import awswrangler as wr
import boto3
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.storage import read_parquet


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
