"""The AWS adapters beyond the port contract: Athena's UNLOAD output (written here as Athena writes it, since moto
cannot run Athena) and Glue's publish across tables."""
import io

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.warehouse.objects import newest_attempt, read_parquet
from pipeline.warehouse.tables import table
from tests.conftest import BUCKET


def test_athena_unload_output_without_file_extensions_is_found_and_read(aws):
    """Athena's UNLOAD writes extensionless Parquet files into the attempt's folder (moto cannot run Athena, so
    stand in for that write); the readers find the newest attempt and read them."""
    training = "work/run_date=2026-03-02/training/"
    for attempt in (0, 1):
        for part in range(2):
            sink = io.BytesIO()
            pq.write_table(pa.table({"customer_id": [f"{attempt}{part}-a", f"{attempt}{part}-b"]}), sink)
            key = f"{training}attempt={attempt}/training_week=2026-01-05/20261123_0000{part}_abc"
            boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=sink.getvalue())

    newest = newest_attempt(aws.storage, training)

    assert newest == f"{training}attempt=1/"
    assert sorted(read_parquet(aws.storage, newest).column("customer_id").to_pylist()) == [
        "10-a", "10-b", "11-a", "11-b"]


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



def test_glue_registers_partitions_a_hundred_a_call_and_an_existing_one_is_success(aws, monkeypatch):
    runs = table("runs")
    weeks = {f"2026-{month:02d}-{day:02d}": f"s3://churn-data/results/runs/run_date=2026-{month:02d}-{day:02d}/"
             for month in range(1, 10) for day in range(1, 29)}  # 252 partitions
    calls = []
    for operation in ("batch_create_partition", "batch_update_partition"):
        original = getattr(aws.catalog._glue, operation)
        monkeypatch.setattr(aws.catalog._glue, operation, lambda original=original, operation=operation, **kwargs: (
            calls.append((operation, len(kwargs.get("PartitionInputList") or kwargs["Entries"]))),
            original(**kwargs))[1])
    aws.catalog.register_partitions(runs, weeks)
    assert calls == [("batch_create_partition", 100), ("batch_create_partition", 100), ("batch_create_partition", 52)]

    calls.clear()
    moved = {"2026-01-01": "s3://churn-data/elsewhere/", "2026-10-05": "s3://churn-data/results/runs/new/"}
    aws.catalog.register_partitions(runs, moved)  # one exists already (re-pointed), one is new
    assert calls == [("batch_create_partition", 2), ("batch_update_partition", 1)]
    registered = aws.catalog.partitions(runs)
    assert len(registered) == 253 and registered["2026-01-01"] == "s3://churn-data/elsewhere/"
    aws.catalog.register_partitions(runs, moved)  # again: nothing to report
    assert aws.catalog.partitions(runs) == registered


def test_a_partition_glue_refuses_in_a_batch_is_named(aws, monkeypatch):
    monkeypatch.setattr(aws.catalog._glue, "batch_create_partition", lambda **kwargs: {"Errors": [
        {"PartitionValues": ["2026-01-05"], "ErrorDetail": {"ErrorCode": "InternalServiceException",
                                                            "ErrorMessage": "try again"}}]})
    with pytest.raises(RuntimeError, match="Glue refused 1 partition.*engagement.runs: 2026-01-05: "
                                           "InternalServiceException: try again"):
        aws.catalog.register_partitions(table("runs"), {"2026-01-05": "s3://churn-data/results/runs/x/"})
