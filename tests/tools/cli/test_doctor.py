"""`doctor`: the catalog checked against storage; a lost catalog rebuilt, damage named, orphans removed."""
import datetime as dt
import hashlib
from pathlib import Path

import pyarrow as pa
import pytest

from local_runtime.local_catalog import LocalCatalog
from pipeline.core.errors import QueryError
from pipeline.execution.identity import Run
from pipeline.execution.week_lock import acquire_week
from pipeline.execution.work import record_inputs
from pipeline.results.run_history import record_attempt
from pipeline.warehouse.layout import attempt_prefix, run_record_key
from pipeline.warehouse.objects import write_json, write_parquet
from pipeline.warehouse.publication import Publication, publish
from pipeline.warehouse.tables import table
from tests.conftest import land_weeks, week
from tools.cli import doctor
from tools.cli.app import main

RUN_DATE = week(3)


def published_week(services, execution: str = "first") -> None:
    """Three landed weeks and one published week of results."""
    land_weeks(services, {"a": [1, 0, 2], "b": [0, 3, 1]})
    for name in ("predictions", "model_metrics"):
        rows = pa.Table.from_pylist([{}], schema=table(name).arrow_schema())  # one row of nulls
        write_parquet(services.storage, f"{attempt_prefix(name, RUN_DATE, execution)}part-0.parquet", rows)
    publish(services, Publication("results", RUN_DATE.isoformat(), {
        name: attempt_prefix(name, RUN_DATE, execution) for name in ("predictions", "model_metrics")},
        published_by=execution))


def file_hashes(services) -> dict[str, str]:
    keys = services.storage.list_keys("raw/") + services.storage.list_keys("results/")
    return {key: hashlib.sha256(services.storage.read_bytes(key)).hexdigest() for key in keys}


def test_a_healthy_warehouse_has_nothing_to_report(services):
    published_week(services)
    assert doctor.examine(services) == []
    assert main(["doctor"]) == 0


def test_a_results_table_added_after_weeks_were_published_reads_empty_rather_than_lost(services):
    published_week(services)  # its record names the two tables of an earlier release, not weekly_summary
    assert services.sql.query("SELECT count(*) AS n FROM engagement.weekly_summary").to_pylist() == [{"n": 0}]
    assert doctor.examine(services) == []


def test_a_lost_catalog_fails_queries_clearly_and_is_rebuilt_whole_from_the_records(services, home):
    published_week(services)
    for run_date in (RUN_DATE, RUN_DATE - dt.timedelta(days=7)):  # run history: its folders are its record
        record_attempt(services, run_date, f"week-{run_date}", 0, {"status": "SUCCEEDED"})
    before = {name: services.catalog.partitions(table(name)) for name in ("snapshots", "predictions", "runs")}
    (home / "catalog.json").unlink()
    with pytest.raises(QueryError, match="catalog lists no partition of engagement.predictions, yet storage "
                                         "records published partitions of it: the catalog was lost.*doctor --repair"):
        services.sql.query("SELECT count(*) FROM engagement.predictions")
    assert main(["doctor"]) == 1  # found, not repaired
    assert main(["doctor", "--repair"]) == 0
    assert {name: services.catalog.partitions(table(name)) for name in before} == before
    assert services.sql.query("SELECT count(*) AS n FROM engagement.predictions").to_pylist() == [{"n": 1}]
    assert services.sql.query("SELECT count(*) AS n FROM engagement.runs").to_pylist() == [{"n": 2}]


def test_a_flipped_byte_in_a_landed_file_is_named_and_left_for_a_new_ingest(services):
    published_week(services)
    location = services.catalog.partitions(table("snapshots"))[week(2).isoformat()]
    key = f"{services.storage.key_of(location)}part-0.parquet"
    data = bytearray(services.storage.read_bytes(key))
    data[len(data) // 2] ^= 1
    services.storage.write_bytes(key, bytes(data))
    [finding] = doctor.examine(services)
    assert f"snapshot_date={week(2)}" in finding.problem and "changed since it was landed" in finding.problem
    assert finding.repair == "ingest that week again" and finding.fix is None
    assert main(["doctor", "--repair"]) == 1


def test_a_truncated_result_file_is_named(services):
    published_week(services)
    key = f"{attempt_prefix('predictions', RUN_DATE, 'first')}part-0.parquet"
    services.storage.write_bytes(key, services.storage.read_bytes(key)[:-20])
    [finding] = doctor.examine(services)
    assert services.storage.uri(key) in finding.problem and "does not read as Parquet" in finding.problem
    assert finding.repair == "run that week again"


def test_repair_removes_orphans_and_nothing_published_or_held(services):
    published_week(services)
    published_week(services, "replaced")  # re-published: "first" is now an orphan
    held_week = week(9)
    acquire_week(services.storage, Run(run_date=held_week, churn_horizon_weeks=1, model_version="v",
                                       execution_name="running"), stale_after=dt.timedelta(hours=1))
    running = f"{attempt_prefix('predictions', held_week, 'running')}part-0.parquet"
    services.storage.write_bytes(running, b"being written")
    services.storage.write_bytes(f"work/run_date={RUN_DATE}/training/part-0.parquet", b"left behind")
    kept = {key: digest for key, digest in file_hashes(services).items() if "execution=first" not in key}
    problems = sorted(finding.problem for finding in doctor.examine(services))
    assert len(problems) == 3 and all("no partition or publication record points at it" in problem
                                      or "work files of a run that has ended" in problem for problem in problems)
    assert doctor.repair(doctor.examine(services)) == []
    assert file_hashes(services) == kept  # the held week's folder too
    assert not services.storage.list_keys("work/")
    assert doctor.examine(services) == []


def test_a_record_whose_folder_is_gone_is_named_not_followed(services, home):
    published_week(services)
    (home / "catalog.json").unlink()
    services.storage.delete_prefix(attempt_prefix("predictions", RUN_DATE, "first"))
    [finding] = [finding for finding in doctor.examine(services) if "run_date" in finding.problem]
    assert f"engagement.predictions, engagement.model_metrics partition run_date={RUN_DATE}" in finding.problem
    assert "which holds no data file" in finding.problem and "execution=first" in finding.problem
    assert finding.repair == "run that week again" and finding.fix is None


def test_discarding_resumable_work_reads_a_damaged_catalog_as_the_rebuild_does(services, home):
    published_week(services)
    failed = Run(run_date=week(2), churn_horizon_weeks=1, model_version="v", execution_name="failed")
    record_inputs(services, failed, week(1))  # made now: resumable
    write_parquet(services.storage, f"{attempt_prefix('predictions', week(2), 'failed')}part-0.parquet",
                  pa.Table.from_pylist([{}], schema=table("predictions").arrow_schema()))
    published = services.catalog.partitions(table("predictions"))
    (home / "catalog.json").write_text('{"engagement.runs": ')
    assert main(["doctor", "--repair", "--discard-resumable"]) == 0
    assert not services.storage.list_keys("work/")
    assert not services.storage.list_keys(attempt_prefix("predictions", week(2), "failed"))
    assert services.catalog.partitions(table("predictions")) == published


def test_a_damaged_catalog_is_set_aside_beside_itself(services, home, monkeypatch):
    published_week(services)
    (home / "catalog.json").write_text("[]")
    asides, set_aside = [], LocalCatalog.set_aside

    def noting_the_aside(catalog, aside):
        asides.append(aside)
        return set_aside(catalog, aside)

    monkeypatch.setattr(LocalCatalog, "set_aside", noting_the_aside)
    assert doctor.repair(doctor.examine(services)) == []
    [aside] = asides
    assert isinstance(aside, Path) and aside.parent == home and aside.read_text() == "[]"  # the type set_aside takes


@pytest.mark.parametrize("launcher_record, resumable", [
    (None, True),  # as on AWS: no launcher's record, Step Functions redrives it
    ({"status": "FAILED", "resume_from": {"state": "Training", "input": {}}}, True),
    ({"status": "FAILED"}, False),  # failed before any state: nothing to continue from
    ({"status": "INTERRUPTED"}, False),
    ({"status": "RUNNING", "pid": 0}, False),  # killed: its process is gone
], ids=["aws", "failed", "failed-before-any-state", "interrupted", "killed"])
def test_work_is_called_resumable_only_for_a_run_that_resume_continues(services, launcher_record, resumable):
    run = Run(run_date=RUN_DATE, churn_horizon_weeks=1, model_version="v", execution_name="e1")
    land_weeks(services, {"a": [1, 1, 1]})
    record_inputs(services, run, week(1))
    if launcher_record:
        write_json(services.storage, run_record_key(run.execution_name),
                   {"execution_name": run.execution_name, **launcher_record})
    listed = doctor.resumable_work(services)
    assert len(listed) == resumable and all("failed execution e1" in line for line in listed)
