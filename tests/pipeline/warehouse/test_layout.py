import datetime as dt

from pipeline.warehouse.layout import (
    MAX_SHARDS,
    attempt_prefix,
    can_retire,
    execution_of_folder,
    is_managed_folder,
    shard_count_for,
)

PARTITION = "results/predictions/run_date=2026-03-02/"


def test_only_folders_the_pipeline_created_are_managed():
    assert is_managed_folder(f"{PARTITION}execution=run-1/")
    assert is_managed_folder("raw/snapshots/snapshot_date=2026-03-02/landed-abc/")
    assert not is_managed_folder(PARTITION)  # a partition a user registered by hand
    assert not is_managed_folder(f"{PARTITION}execution=run-1/shard-00000.parquet")



def test_an_execution_folder_names_its_execution_with_or_without_its_slash():
    assert execution_of_folder(attempt_prefix("predictions", dt.date(2026, 3, 2), "run-1")) == "run-1"
    assert execution_of_folder(f"/data/warehouse/{PARTITION}execution=run-1") == "run-1"  # a location, as stored
    assert execution_of_folder("raw/snapshots/snapshot_date=2026-03-02/landed-abc/") is None
    assert execution_of_folder(PARTITION) is None


def test_a_folder_is_never_retired_while_it_holds_or_lies_in_the_kept_one():
    assert can_retire(f"{PARTITION}execution=old/", f"{PARTITION}execution=new/")
    assert can_retire(f"{PARTITION}execution=old/", None)
    assert not can_retire(f"{PARTITION}execution=new/", f"{PARTITION}execution=new/")
    assert not can_retire(PARTITION, f"{PARTITION}execution=new/")
    assert not can_retire(f"{PARTITION}execution=new/", PARTITION)


def test_shards_follow_the_week_size_up_to_athenas_partition_limit():
    assert shard_count_for(1, 50_000) == 1
    assert shard_count_for(100_001, 50_000) == 3
    assert shard_count_for(10**9, 50_000) == MAX_SHARDS
