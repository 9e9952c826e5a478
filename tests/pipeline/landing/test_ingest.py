"""Ingest: a validated file becomes the week's partition; a re-ingest replaces it; a bad file lands nothing."""
import datetime as dt

import pytest

from pipeline.core.errors import ContractError
from pipeline.landing import ingest
from pipeline.landing.ingest import ingest_file
from pipeline.warehouse.publication import publish
from pipeline.warehouse.retirement import retirements
from pipeline.warehouse.tables import table

WEEK = dt.date(2026, 3, 2)


def write_csv(tmp_path, name: str, body: str):
    path = tmp_path / name
    path.write_text("customer_id,sessions_7d\n" + body)
    return path


def test_ingest_lands_the_file_as_the_weeks_partition(services, tmp_path):
    rows, location, notes = ingest_file(services, write_csv(tmp_path, "w.csv", "a,1\nb,0\n"), WEEK)
    assert rows == 2 and notes == []
    assert services.catalog.partitions(table("snapshots")) == {WEEK.isoformat(): location}
    assert retirements(services.storage) == []  # the week had no landing to replace
    assert services.sql.query("SELECT count(*) FROM engagement.snapshots").column(0)[0].as_py() == 2


def test_a_reingest_replaces_the_week_and_retires_the_old_landing(services, tmp_path):
    _, first, _ = ingest_file(services, write_csv(tmp_path, "a.csv", "a,1\nb,0\n"), WEEK)
    _, second, _ = ingest_file(services, write_csv(tmp_path, "b.csv", "c,1\n"), WEEK)
    assert first != second and services.catalog.partitions(table("snapshots"))[WEEK.isoformat()] == second
    assert services.storage.list_keys(services.storage.key_of(first))  # kept for a reader still on it
    [retirement] = retirements(services.storage)
    assert (retirement.folder, retirement.value) == (services.storage.key_of(first), WEEK.isoformat())
    assert "replaced by a re-ingest" in retirement.reason
    assert services.sql.query("SELECT customer_id FROM engagement.snapshots").column(0).to_pylist() == ["c"]


def test_a_crash_just_after_the_switch_leaves_the_replaced_landing_retired(services, tmp_path, monkeypatch):
    """Retired first, so the old landing's files are in their grace, whatever ends the ingest after the switch."""
    _, first, _ = ingest_file(services, write_csv(tmp_path, "a.csv", "a,1\n"), WEEK)

    def publish_then_crash(*args, **kwargs):
        publish(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(ingest, "publish", publish_then_crash)
    with pytest.raises(KeyboardInterrupt):
        ingest_file(services, write_csv(tmp_path, "b.csv", "c,1\n"), WEEK)
    assert services.catalog.partitions(table("snapshots"))[WEEK.isoformat()] != first
    assert [retirement.folder for retirement in retirements(services.storage)] == [services.storage.key_of(first)]


def test_the_replaced_landing_is_read_from_the_publication_record_not_the_catalog(services, tmp_path, home):
    _, first, _ = ingest_file(services, write_csv(tmp_path, "a.csv", "a,1\n"), WEEK)
    (home / "catalog.json").unlink()  # lost: the record still names the week's landing
    ingest_file(services, write_csv(tmp_path, "b.csv", "c,1\n"), WEEK)
    assert [retirement.folder for retirement in retirements(services.storage)] == [services.storage.key_of(first)]


def test_an_off_cycle_date_is_refused_before_the_file_is_read_unless_forced(services, tmp_path):
    ingest_file(services, write_csv(tmp_path, "a.csv", "a,1\n"), WEEK)
    wednesday = WEEK + dt.timedelta(days=9)
    with pytest.raises(ContractError, match="2026-03-11 is a Wednesday.*Mondays.*2026-03-09 and 2026-03-16"):
        ingest_file(services, tmp_path / "never-read.csv", wednesday)
    _, _, notes = ingest_file(services, write_csv(tmp_path, "b.csv", "a,1\n"), wednesday, force=True)
    assert "landed anyway (--force)" in notes[0] and "remove-week --snapshot-date 2026-03-11" in notes[0]
    assert list(services.catalog.partitions(table("snapshots"))) == [WEEK.isoformat(), wednesday.isoformat()]


def test_a_bad_file_lands_nothing_and_keeps_the_week_before(services, tmp_path):
    _, kept, _ = ingest_file(services, write_csv(tmp_path, "good.csv", "a,1\n"), WEEK)
    with pytest.raises(ContractError, match="column 'customer_id'"):
        ingest_file(services, write_csv(tmp_path, "bad.csv", "a,1\na,2\n"), WEEK)
    assert services.catalog.partitions(table("snapshots")) == {WEEK.isoformat(): kept}
