"""A snapshot date off the landed weeks' weekly cycle is refused unless forced; `doctor` names one that was forced,
and `remove-week` takes it out (its files kept in retention), after which the next run works."""
import datetime as dt

from pipeline.execution.identity import Run
from pipeline.execution.week_lock import acquire_week, release_week
from pipeline.warehouse.publication import recorded
from pipeline.warehouse.retirement import retirements
from pipeline.warehouse.tables import table
from tests.conftest import week
from tests.end_to_end.published_weeks import landed_file, published_files, unchanged
from tools.cli.app import main
from tools.synthetic.panel import land_synthetic_panel

CUSTOMERS, WEEKS = 600, 10
WEDNESDAY = week(5) + dt.timedelta(days=2)


def said(text: str) -> str:
    return " ".join(text.split())  # as said, whatever the terminal's wrapping


def test_an_off_cycle_week_is_refused_named_by_doctor_and_removed_so_the_next_run_works(services, tmp_path, capsys):
    land_synthetic_panel(services, CUSTOMERS, WEEKS, seed=5, if_missing=False)
    assert main(["run", "--run-date", week(9).isoformat()]) == 0
    before, landed = published_files(services), services.catalog.partitions(table("snapshots"))
    path = landed_file(services, week(5), tmp_path / "wednesday.parquet")
    capsys.readouterr()

    assert main(["ingest", str(path), "--snapshot-date", WEDNESDAY.isoformat()]) == 2
    err = said(capsys.readouterr().err)
    assert f"snapshot date {WEDNESDAY} is a Wednesday" in err and "they are Mondays" in err
    assert f"the nearest on-cycle dates are {week(5)} and {week(6)}" in err and "--force" in err
    assert services.catalog.partitions(table("snapshots")) == landed

    assert main(["ingest", str(path), "--snapshot-date", WEDNESDAY.isoformat(), "--force"]) == 0
    assert f"remove-week --snapshot-date {WEDNESDAY}" in said(capsys.readouterr().out)
    assert main(["doctor"]) == 1
    out = said(capsys.readouterr().out)
    assert f"snapshot_date={WEDNESDAY}: snapshot date {WEDNESDAY} is a Wednesday" in out
    assert f"engagement-pipeline remove-week --snapshot-date {WEDNESDAY}" in out

    holder = Run(run_date=WEDNESDAY, churn_horizon_weeks=4, model_version="v", execution_name="running")
    acquire_week(services.storage, holder, dt.timedelta(hours=1))
    assert main(["remove-week", "--snapshot-date", WEDNESDAY.isoformat()]) == 2  # a run holds it
    assert "is being run" in said(capsys.readouterr().err)
    release_week(services.storage, holder)

    folder = services.storage.key_of(services.catalog.partitions(table("snapshots"))[WEDNESDAY.isoformat()])
    assert main(["remove-week", "--snapshot-date", WEDNESDAY.isoformat()]) == 0
    out = said(capsys.readouterr().out)
    assert f"its files are kept at {services.storage.uri(folder)} until" in out and "RETIRED_FILES_DAYS=7" in out
    assert services.catalog.partitions(table("snapshots")) == landed
    assert recorded(services.storage, "snapshots", WEDNESDAY.isoformat()) is None  # so no repair brings it back
    assert services.storage.list_keys(folder) and [r.folder for r in retirements(services.storage)] == [folder]
    assert main(["doctor", "--repair"]) == 0 and services.storage.list_keys(folder)
    assert main(["remove-week", "--snapshot-date", WEDNESDAY.isoformat()]) == 2  # nothing left to remove

    assert main(["run", "--run-date", week(10).isoformat()]) == 0
    assert unchanged(before, services)
