"""Retired folders stay in place through the grace (RETIRED_FILES_DAYS), then go with their record; one a
partition points at again keeps its files."""
import dataclasses
import datetime as dt

from local_runtime.host import local_services  # settings read again, after RETIRED_FILES_DAYS is set
from pipeline.warehouse.layout import landing_prefix
from pipeline.warehouse.objects import write_json
from pipeline.warehouse.retirement import expired, in_grace, remove_expired, retire, retirements
from pipeline.warehouse.tables import table

WEEK = dt.date(2026, 3, 2)


def retired_folder(services, landing_id: str, days_ago: float) -> str:
    folder = landing_prefix(WEEK, landing_id)
    write_json(services.storage, f"{folder}part-0.parquet", {})
    retirement = retire(services.storage, folder, "snapshots", WEEK.isoformat(), "replaced")
    retired_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days_ago)
    write_json(services.storage, retirement.key,
               dataclasses.asdict(retirement) | {"retired_at": retired_at.isoformat(timespec="seconds")})
    return folder


def test_a_retired_folder_is_kept_through_the_grace_and_removed_after_it(services):
    recent, old = retired_folder(services, "recent", days_ago=6.9), retired_folder(services, "old", days_ago=7.1)
    assert [r.folder for r in in_grace(services)] == [recent] and [r.folder for r in expired(services)] == [old]
    assert remove_expired(services) == 1
    assert services.storage.list_keys(recent) and not services.storage.list_keys(old)
    assert [r.folder for r in retirements(services.storage)] == [recent]


def test_the_grace_is_a_setting(services, monkeypatch):
    folder = retired_folder(services, "a", days_ago=2.5)
    monkeypatch.setenv("RETIRED_FILES_DAYS", "2")
    assert remove_expired(local_services()) == 1 and not services.storage.list_keys(folder)


def test_a_folder_a_partition_points_at_again_keeps_its_files(services):
    folder = retired_folder(services, "back", days_ago=30)
    services.catalog.put_partition(table("snapshots"), WEEK.isoformat(), services.storage.uri(folder))
    assert remove_expired(services) == 0
    assert services.storage.list_keys(folder) and retirements(services.storage) == []
