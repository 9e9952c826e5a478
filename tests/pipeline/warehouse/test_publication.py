"""Publication records: the commit point of every switch, and what a lagging or lost catalog is put right from."""
import pytest

from pipeline.warehouse.objects import read_json
from pipeline.warehouse.publication import (
    Publication,
    changed_files,
    publish,
    published_locations,
    reconcile,
    recorded,
    withdraw,
)
from pipeline.warehouse.tables import table

WEEK = "2026-03-02"


def results(execution: str) -> Publication:
    return Publication("results", WEEK, {name: f"results/{name}/run_date={WEEK}/execution={execution}/"
                                         for name in ("predictions", "model_metrics")}, published_by=execution)


def test_publish_commits_the_record_with_keys_relative_to_the_warehouse_then_switches_the_catalog(services):
    publish(services, results("first"))
    stored = read_json(services.storage, f"publications/results/{WEEK}.json")
    assert stored["locations"]["predictions"] == f"results/predictions/run_date={WEEK}/execution=first/"
    assert stored["published_by"] == "first"
    assert services.catalog.partitions(table("model_metrics"))[WEEK] == services.storage.uri(
        f"results/model_metrics/run_date={WEEK}/execution=first/")


def test_a_catalog_behind_its_record_is_caught_up_and_what_the_record_names_counts_as_published(services):
    publish(services, results("first"))
    publish(services, results("second"))
    services.catalog.put_partition(table("model_metrics"), WEEK, services.storage.uri(  # as if killed midway
        results("first").locations["model_metrics"]))
    assert published_locations(services, "results")["model_metrics"][WEEK].endswith("execution=second/")
    assert reconcile(services, recorded(services.storage, "results", WEEK)) == ["model_metrics"]
    assert services.catalog.partitions(table("model_metrics"))[WEEK].endswith("execution=second/")
    assert reconcile(services, recorded(services.storage, "results", WEEK)) == []
    assert reconcile(services, None) == []


def test_a_withdrawn_partition_has_no_record_left_to_bring_it_back(services):
    publish(services, results("first"))
    withdraw(services.storage, "results", WEEK)
    assert recorded(services.storage, "results", WEEK) is None


@pytest.mark.parametrize("damage", ["flip", "delete"])
def test_a_file_that_changed_or_went_since_it_was_recorded_is_named(services, damage):
    key = "raw/snapshots/snapshot_date=2026-03-02/landed-x/part-0.parquet"
    services.storage.write_bytes(key, b"landed bytes")
    record = Publication("snapshots", WEEK, {"snapshots": key.rsplit("/", 1)[0] + "/"}, published_by="landing x",
                         checksums={key: services.storage.checksum(key)})
    assert changed_files(services.storage, record) == []
    if damage == "flip":
        services.storage.write_bytes(key, b"landed bytez")
    else:
        services.storage.delete_prefix(key)
    [problem] = changed_files(services.storage, record)
    assert services.storage.uri(key) in problem
    assert ("changed since it was landed" if damage == "flip" else "is gone") in problem
