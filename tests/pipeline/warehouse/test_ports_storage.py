"""The Storage port's helpers and contract, on both adapters (a folder, S3 on moto)."""
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from local_runtime.folder_storage import FolderStorage
from pipeline.aws.s3 import S3Storage
from pipeline.warehouse.objects import (
    data_keys_by_partition,
    local_copies,
    parquet_batches,
    parquet_output,
    parquet_row_count,
    read_json,
    read_parquet,
    write_json,
    write_parquet,
)
from tests.conftest import AWS_REGION


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return FolderStorage(tmp_path / "warehouse")
    request.getfixturevalue("mocked_aws")
    client = boto3.client("s3")
    client.create_bucket(Bucket="churn", CreateBucketConfiguration={"LocationConstraint": AWS_REGION})
    return S3Storage("churn", client)


def test_parquet_round_trip_and_row_count(storage):
    table = pa.table({"customer_id": ["a", "b"], "score": [0.1, 0.9]})
    write_parquet(storage, "results/run_date=2026-01-05/part-0.parquet", table)
    write_parquet(storage, "results/run_date=2026-01-05/part-1.parquet", table)
    assert read_parquet(storage, "results/run_date=2026-01-05/").num_rows == 4
    assert read_parquet(storage, "results/run_date=2026-01-05/", columns=["score"]).column_names == ["score"]
    assert parquet_row_count(storage, "results/") == 4


def test_folder_keys_round_trip_through_uris(storage):
    assert storage.key_of(storage.uri("results/run_date=2026-01-05/")) == "results/run_date=2026-01-05/"


def test_delete_prefix_removes_only_that_prefix(storage):
    write_json(storage, "work/run_date=1/a.json", {"x": 1})
    write_json(storage, "work/run_date=1/b/c.json", {"x": 2})
    write_json(storage, "work/run_date=2/a.json", {"x": 3})
    assert storage.delete_prefix("work/run_date=1/") == 2
    assert storage.list_keys("work/") == ["work/run_date=2/a.json"]
    assert read_json(storage, "work/run_date=2/a.json") == {"x": 3}


def test_reading_an_empty_prefix_names_it(storage):
    with pytest.raises(FileNotFoundError, match="no Parquet files under .*nothing/"):
        read_parquet(storage, "nothing/")


def test_a_missing_key_is_file_not_found_on_every_adapter(storage):
    with pytest.raises(FileNotFoundError):
        storage.read_bytes("models/model_version=nope/metrics.json")


def test_create_exclusive_writes_only_when_absent(storage):
    assert storage.create_exclusive("locks/a.json", b"first")
    assert not storage.create_exclusive("locks/a.json", b"second")
    assert storage.read_bytes("locks/a.json") == b"first"


def test_large_objects_go_through_this_disk_both_ways(storage, tmp_path):
    """Streaming stages read an object from a local copy and store a file they wrote, never whole in memory."""
    written = tmp_path / "scores.parquet"
    pq.write_table(pa.table({"customer_id": ["a", "b", "c"]}), written)
    storage.upload_file(str(written), "results/scores.parquet")
    with storage.local_copy("results/scores.parquet") as path:
        assert pq.read_table(path).column("customer_id").to_pylist() == ["a", "b", "c"]
    with pytest.raises(FileNotFoundError, match="results/missing.parquet"):
        with storage.local_copy("results/missing.parquet"):
            pass


def test_a_copy_outlives_its_source_and_keeps_a_checksum(storage):
    write_parquet(storage, "work/features/part.parquet", pa.table({"x": [1, 2]}))
    storage.copy("work/features/part.parquet", "features/snapshot_date=2024-01-01/execution=e/part.parquet")
    storage.copy("work/features/part.parquet", "features/snapshot_date=2024-01-01/execution=e/part.parquet")  # again
    storage.delete_prefix("work/")
    kept = "features/snapshot_date=2024-01-01/execution=e/part.parquet"
    assert read_parquet(storage, kept).column("x").to_pylist() == [1, 2]
    assert storage.checksum(kept)


def test_s3_copies_are_removed_with_their_block(storage):
    write_parquet(storage, "work/a.parquet", pa.table({"x": [1]}))
    with local_copies(storage, ["work/a.parquet"]) as paths:
        assert pq.read_table(paths[0]).num_rows == 1
    assert Path(paths[0]).exists() == isinstance(storage, FolderStorage)  # the folder's own file stays


def test_batches_are_written_out_only_when_the_writer_finishes(storage):
    schema = pa.schema([("x", pa.int64())])
    with parquet_output(storage, "results/out.parquet", schema) as writer:
        for start in (0, 3):
            writer.write_batch(pa.record_batch([pa.array(range(start, start + 3))], schema=schema))
    with pytest.raises(RuntimeError):
        with parquet_output(storage, "results/failed.parquet", schema) as writer:
            writer.write_batch(pa.record_batch([pa.array([1])], schema=schema))
            raise RuntimeError("scoring failed half-way")
    assert read_parquet(storage, "results/out.parquet").column("x").to_pylist() == list(range(6))
    assert not storage.exists("results/failed.parquet")


def test_parquet_is_read_in_batches_of_the_asked_size(tmp_path):
    path = tmp_path / "rows.parquet"
    pq.write_table(pa.table({"x": list(range(10))}), path)
    assert [batch.num_rows for batch in parquet_batches([str(path), str(path)], batch_rows=4)] == [4, 4, 2, 4, 4, 2]


def test_partitioned_files_are_grouped_by_their_folder_value(storage):
    for week, part in (("2026-01-05", 0), ("2026-01-05", 1), ("2026-01-12", 0)):
        write_parquet(storage, f"work/training/training_week={week}/part-{part}.parquet", pa.table({"x": [1]}))
    assert data_keys_by_partition(storage, "work/training/", "training_week") == {
        "2026-01-05": ["work/training/training_week=2026-01-05/part-0.parquet",
                       "work/training/training_week=2026-01-05/part-1.parquet"],
        "2026-01-12": ["work/training/training_week=2026-01-12/part-0.parquet"]}
    write_parquet(storage, "work/training/stray.parquet", pa.table({"x": [1]}))
    with pytest.raises(FileNotFoundError, match="stray.parquet is not in a training_week=… folder"):
        data_keys_by_partition(storage, "work/training/", "training_week")
