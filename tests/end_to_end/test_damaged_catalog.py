"""A damaged catalog.json (truncated, empty, `[]`, the wrong shape) is a clear error for every command, never
overwritten; `doctor --repair` sets it aside and rebuilds the catalog from the publication records, so the weeks
published before read the same again. A run that meets it fails with its failure recorded, week and all."""
import json
import shutil

import pytest

from local_runtime.host import install_local_host
from local_runtime.run_records import past_runs
from pipeline.warehouse.tables import table, table_definitions
from tests.conftest import week
from tests.end_to_end.published_weeks import landed_file, published_files, published_panel, unchanged
from tools.cli.app import main

CUSTOMERS, WEEKS = 600, 10
DAMAGE = {
    "truncated": lambda text: text[:len(text) // 2],
    "empty": lambda text: "",
    "a list": lambda text: "[]",
    "a table that is not an object": lambda text: json.dumps({"engagement.snapshots": 3}),
}
PUBLISHED_QUERIES = [
    "SELECT customer_id, churn_probability, risk_band FROM engagement.predictions ORDER BY customer_id",
    "SELECT run_date, auc, rows_trained, rows_scored FROM engagement.model_metrics",
    "SELECT snapshot_date, count(*) AS customers FROM engagement.snapshots GROUP BY 1 ORDER BY 1",
]


@pytest.fixture(scope="module")
def published_home(tmp_path_factory):
    """Ten landed weeks, week 9 published: made once, copied into each test's fresh data directory."""
    return published_panel(tmp_path_factory.mktemp("published") / "home", CUSTOMERS, WEEKS, seed=5, run_weeks=(9,))


@pytest.fixture
def published(published_home, home):
    shutil.copytree(published_home, home)
    return install_local_host()


def answers(capsys) -> list[str]:
    capsys.readouterr()
    for sql in PUBLISHED_QUERIES:
        assert main(["query", sql, "--format", "csv"]) == 0
    return capsys.readouterr().out.splitlines()


def catalog_state(services) -> dict:
    return {name: services.catalog.partitions(definition) for name, definition in table_definitions().items()}


def assert_refused_clearly(capsys, catalog) -> None:
    err = " ".join(capsys.readouterr().err.split())  # as said, whatever the terminal's wrapping
    assert f"the catalog {catalog} is damaged" in err and "engagement-pipeline doctor --repair" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_catalog_is_refused_by_every_command_and_rebuilt_by_doctor_repair(
        published, home, tmp_path, capsys, damage):
    catalog, before, files = home / "catalog.json", catalog_state(published), published_files(published)
    published_answers, new_week = answers(capsys), landed_file(published, week(WEEKS), tmp_path / "next.parquet")
    damaged = damage(catalog.read_text())
    catalog.write_text(damaged)

    assert main(["query", PUBLISHED_QUERIES[0]]) == 2
    assert_refused_clearly(capsys, catalog)
    assert main(["ingest", str(new_week), "--snapshot-date", week(WEEKS + 1).isoformat()]) == 2
    assert_refused_clearly(capsys, catalog)
    assert main(["doctor"]) == 1
    assert f"the catalog {catalog} is damaged" in capsys.readouterr().out
    assert catalog.read_text() == damaged  # never overwritten by an edit

    assert main(["doctor", "--repair"]) == 0
    [aside] = home.glob("catalog.json.damaged-*")
    assert str(aside) in capsys.readouterr().out and aside.read_text() == damaged  # kept, and said where
    assert catalog_state(published) == before
    assert answers(capsys) == published_answers and unchanged(files, published)
    assert main(["ingest", str(new_week), "--snapshot-date", week(WEEKS + 1).isoformat()]) == 0
    assert main(["doctor"]) == 0


def test_a_run_that_meets_a_damaged_catalog_is_recorded_failed_with_its_week_and_runs_once_repaired(
        published, home, capsys):
    files = published_files(published)
    catalog = home / "catalog.json"
    catalog.write_text(catalog.read_text()[:-10])
    run_date = week(WEEKS).isoformat()
    assert main(["run", "--run-date", run_date]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "run failed in Cleanup" in err and f"the catalog {catalog} is damaged" in err
    failed = past_runs(published.storage)[-1]
    assert (failed["status"], failed["run_date"]) == ("FAILED", run_date)
    assert main(["runs"]) == 0 and "FAILED" in capsys.readouterr().out

    assert main(["doctor", "--repair"]) == 0
    assert main(["run", "--run-date", run_date]) == 0
    assert run_date in published.catalog.partitions(table("predictions")) and unchanged(files, published)
    history = published.sql.query(f"SELECT status FROM engagement.runs WHERE run_date = DATE '{run_date}'"
                                  ).column(0).to_pylist()
    assert sorted(history) == ["FAILED", "SUCCEEDED"]  # the failed attempt's row too, registered by the repair
