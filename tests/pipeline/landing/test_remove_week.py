"""remove-week takes a landed week out, its publication record with it, and retires its folder."""
import datetime as dt

import pytest

from pipeline.core.errors import PipelineError
from pipeline.landing.remove_week import remove_landed_week
from pipeline.warehouse.publication import recorded
from pipeline.warehouse.retirement import retirements
from pipeline.warehouse.tables import table
from tests.conftest import land_weeks, week


def test_a_removed_week_leaves_the_catalog_and_its_record_and_its_files_stay_retired(services):
    land_weeks(services, {"a": [1, 0], "b": [0, 2]})
    folder = services.storage.key_of(services.catalog.partitions(table("snapshots"))[week(2).isoformat()])
    retirement = remove_landed_week(services, week(2))
    assert list(services.catalog.partitions(table("snapshots"))) == [week(1).isoformat()]
    assert recorded(services.storage, "snapshots", week(2).isoformat()) is None
    assert retirement.folder == folder and retirements(services.storage) == [retirement]
    assert services.storage.list_keys(folder)


def test_a_week_not_landed_cannot_be_removed(services):
    with pytest.raises(PipelineError, match="no snapshot is landed for 2026-03-02"):
        remove_landed_week(services, dt.date(2026, 3, 2))


def test_a_folder_registered_by_hand_is_dropped_from_the_catalog_and_left_as_it_was(services, tmp_path):
    services.catalog.put_partition(table("snapshots"), week(1).isoformat(), f"{tmp_path}/mine/")
    assert remove_landed_week(services, week(1)) is None
    assert services.catalog.partitions(table("snapshots")) == {} and retirements(services.storage) == []
