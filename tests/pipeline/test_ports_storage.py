"""The Storage port's helpers and contract, on both adapters (a folder, S3 on moto)."""
import boto3
import pyarrow as pa
import pytest

from local_runtime.folder_storage import FolderStorage
from pipeline.aws.s3 import S3Storage
from pipeline.storage import parquet_row_count, read_json, read_parquet, write_json, write_parquet
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
