"""Resume, repair and failures that keep their promises (issue 19, breaks 1, 2, 3, 5 and the hidden causes of 4):
each as a user meets it, through the CLI, in a data directory of its own where an earlier week is published.

After every fault the earlier published week reads byte for byte as before, and the next normal command works.
"""
import datetime as dt
import hashlib
import shutil

import pyarrow.parquet as pq
import pytest

from local_runtime.duckdb_engine import DuckDbEngine
from local_runtime.host import install_local_host
from local_runtime.run_records import past_runs
from pipeline.warehouse.layout import champion_key
from pipeline.warehouse.tables import table
from tests.conftest import week
from tools.cli.app import main
from tools.synthetic.panel import land_synthetic_panel

CUSTOMERS, WEEKS = 1500, 10
EARLIER, WEEK = week(WEEKS - 1), week(WEEKS)


@pytest.fixture(scope="module")
def published_once(tmp_path_factory):
    """A data directory with 10 weeks landed and week 9 published, made once and copied for each test."""
    home = tmp_path_factory.mktemp("published") / "home"
    with pytest.MonkeyPatch.context() as patch:
        use_home(patch, home)
        land_synthetic_panel(install_local_host(), CUSTOMERS, WEEKS, seed=11, if_missing=False)
        assert main(["run", "--run-date", EARLIER.isoformat()]) == 0
    return home


def use_home(patch, home) -> None:
    patch.setenv("PIPELINE_HOME", str(home))
    for name in ("PIPELINE_RUNTIME", "CHURN_HORIZON_WEEKS", "PIPELINE_FAULTS"):
        patch.delenv(name, raising=False)
    patch.setattr("time.sleep", lambda seconds: None)  # Retry intervals: not waited for here


@pytest.fixture
def panel(published_once, tmp_path, monkeypatch):
    home = tmp_path / "home"
    shutil.copytree(published_once, home)
    use_home(monkeypatch, home)
    return install_local_host()


def published_files(services) -> dict[str, str]:
    """Every file of the published week's partitions and of the models (not the champion pointer, which a later
    week's model may move), by checksum."""
    keys = [key for name in ("predictions", "model_metrics", "qa_predictions", "weekly_summary", "data_quality")
            for location in services.catalog.partitions(table(name)).values()
            for key in services.storage.list_keys(services.storage.key_of(location))]
    keys += [key for key in services.storage.list_keys("models/") if key != champion_key()]
    return {key: hashlib.sha256(services.storage.read_bytes(key)).hexdigest() for key in keys}


def earlier_week_unchanged(services, before: dict[str, str]) -> bool:
    return {key: digest for key, digest in published_files(services).items() if key in before} == before


def last_run(services) -> dict:
    return past_runs(services.storage)[-1]


def scored_customers(capsys, run_date: dt.date) -> int:
    capsys.readouterr()
    assert main(["query", f"SELECT count(*) AS n FROM engagement.predictions WHERE run_date = DATE '{run_date}'",
                 "--format", "csv"]) == 0
    return int(capsys.readouterr().out.splitlines()[-1])


def reingest_fewer_customers(services, tmp_path, share: float) -> int:
    location = services.catalog.partitions(table("snapshots"))[WEEK.isoformat()]
    rows = pq.read_table(services.storage.uri(services.storage.list_keys(services.storage.key_of(location))[0]))
    fewer = rows.slice(0, int(rows.num_rows * share))
    path = tmp_path / "week-again.parquet"
    pq.write_table(fewer, path)
    assert main(["ingest", str(path), "--snapshot-date", WEEK.isoformat()]) == 0
    return fewer.num_rows


def test_resume_after_the_week_was_landed_again_refuses_and_names_the_change(panel, tmp_path, monkeypatch, capsys):
    """Break 1: the old sets (1,500 customers) were published for a week that now has 900."""
    before = published_files(panel)
    monkeypatch.setenv("PIPELINE_FAULTS", "Training:always")
    assert main(["run", "--run-date", WEEK.isoformat()]) == 1
    failed = last_run(panel)["execution_name"]
    customers_now = reingest_fewer_customers(panel, tmp_path, share=0.6)
    monkeypatch.delenv("PIPELINE_FAULTS")

    capsys.readouterr()
    assert main(["resume", failed]) == 2
    error = capsys.readouterr().err
    assert f"execution {failed} cannot go on" in error and f"week {WEEK} was landed again" in error
    assert "Nothing was published" in error
    assert scored_customers(capsys, WEEK) == 0 and earlier_week_unchanged(panel, before)

    assert main(["run", "--run-date", WEEK.isoformat()]) == 0  # the next normal command prepares afresh
    assert scored_customers(capsys, WEEK) == customers_now == 900
    assert earlier_week_unchanged(panel, before)


def test_resume_reads_its_own_sets_after_another_execution_of_the_week_failed(panel, monkeypatch, capsys):
    """Break 2: run A (horizon 4) and then run B (horizon 2) fail; resuming A trains on A's horizon-4 set, not B's."""
    before = published_files(panel)
    monkeypatch.setenv("PIPELINE_FAULTS", "Training:always")
    assert main(["run", "--run-date", WEEK.isoformat()]) == 1
    first = last_run(panel)["execution_name"]
    assert main(["run", "--run-date", WEEK.isoformat(), "--churn-horizon-weeks", "2"]) == 1
    monkeypatch.delenv("PIPELINE_FAULTS")

    assert main(["resume", first]) == 0
    capsys.readouterr()
    assert main(["query", "SELECT churn_horizon_weeks, validation_week FROM engagement.model_metrics WHERE run_date "
                 f"= DATE '{WEEK}'", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["churn_horizon_weeks,validation_week",
                                                     f"4,{WEEK - dt.timedelta(weeks=4)}"]
    assert earlier_week_unchanged(panel, before)


def test_repair_keeps_the_work_a_resume_needs_and_discards_it_only_when_asked(panel, monkeypatch, capsys):
    """Break 3: `doctor --repair` removed the failed run's work, and the resume the CLI had suggested then failed."""
    before = published_files(panel)
    monkeypatch.setenv("PIPELINE_FAULTS", "InferenceShard:always")
    assert main(["run", "--run-date", WEEK.isoformat()]) == 1
    failed = last_run(panel)["execution_name"]
    monkeypatch.delenv("PIPELINE_FAULTS")

    capsys.readouterr()
    assert main(["doctor", "--repair"]) == 0
    out = capsys.readouterr().out
    assert f"kept the work of failed execution {failed}" in out and f"resume {failed}" in out
    assert main(["resume", failed]) == 0
    assert scored_customers(capsys, WEEK) == CUSTOMERS and earlier_week_unchanged(panel, before)


def test_discarding_a_resumable_run_says_what_is_lost_and_its_resume_then_refuses(panel, monkeypatch, capsys):
    monkeypatch.setenv("PIPELINE_FAULTS", "InferenceShard:always")
    assert main(["run", "--run-date", WEEK.isoformat()]) == 1
    failed = last_run(panel)["execution_name"]
    monkeypatch.delenv("PIPELINE_FAULTS")

    capsys.readouterr()
    assert main(["doctor", "--repair", "--discard-resumable"]) == 0
    assert f"execution {failed} can no longer be resumed" in capsys.readouterr().out
    assert main(["resume", failed]) == 2
    assert f"the work of execution {failed} (run_date {WEEK}) is gone" in capsys.readouterr().err
    assert main(["run", "--run-date", WEEK.isoformat()]) == 0


def test_a_failed_query_says_why_in_run_runs_engagement_runs_and_the_report(panel, monkeypatch, capsys):
    """Break 4's hidden cause: `run` and `runs` showed only `States.TaskFailed: ` for a PrepareSets failure."""
    reason = "the Athena query failed: RuntimeError: HIVE_CANNOT_OPEN_SPLIT: Cannot open file part-0.parquet"
    unload, broken = DuckDbEngine.run_unload, [True]

    def run_unload(engine, statement):
        if broken:
            raise RuntimeError("HIVE_CANNOT_OPEN_SPLIT: Cannot open file part-0.parquet")
        return unload(engine, statement)

    monkeypatch.setattr(DuckDbEngine, "run_unload", run_unload)
    capsys.readouterr()
    assert main(["run", "--run-date", WEEK.isoformat()]) == 1
    assert reason in capsys.readouterr().err
    assert main(["runs"]) == 0
    assert reason in capsys.readouterr().out
    assert main(["query", "SELECT failed_state, cause FROM engagement.runs WHERE status = 'FAILED'",
                 "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [f"PrepareFeatures,{reason}"]  # its UNLOAD runs first

    broken.clear()  # the engine works again
    failed = last_run(panel)["execution_name"]
    assert main(["resume", failed]) == 0
    report = panel.storage.read_bytes(f"reports/run_date={WEEK}/{failed}.html").decode()
    assert "Earlier attempts of this execution" in report and reason in report


def test_a_data_directory_with_quotes_brackets_spaces_and_accents_runs(published_once, tmp_path, monkeypatch, capsys):
    """Break 5: a ' in PIPELINE_HOME failed every run in PrepareSets with an empty message."""
    home = tmp_path / "it's a [weekly] répertoire"
    shutil.copytree(published_once, home)
    use_home(monkeypatch, home)
    before = published_files(install_local_host())
    assert main(["run", "--run-date", WEEK.isoformat()]) == 0
    assert f"at {home}/warehouse/results/predictions/run_date={WEEK}/" in capsys.readouterr().out
    assert scored_customers(capsys, WEEK) == CUSTOMERS
    assert earlier_week_unchanged(install_local_host(), before)
