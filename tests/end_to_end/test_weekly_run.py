"""The whole weekly run: statemachine/pipeline.asl.json executed locally on a small panel."""
import datetime as dt

import pytest

from local_runtime.asl import ExecutionFailed
from local_runtime.launcher import execute_locally
from pipeline.landing.ingest import ingest_file
from pipeline.warehouse.objects import read_json
from pipeline.warehouse.tables import table
from tools.synthetic.generator import generate_panel
from tools.synthetic.panel import land_synthetic_panel

CUSTOMERS, WEEKS = 1500, 9


def run(execution_input: dict | None = None, name: str | None = None):
    events = []
    result = execute_locally(execution_input or {}, execution_name=name, on_event=events.append,
                             sleep=lambda seconds: None)
    return result, events


def count(services, query: str) -> int:
    return services.sql.query(query).column(0)[0].as_py()


@pytest.fixture
def panel(services, monkeypatch):
    monkeypatch.setenv("INFERENCE_ROWS_PER_SHARD", "600")  # three shards: the Map runs in parallel
    land_synthetic_panel(services, CUSTOMERS, WEEKS, seed=11, if_missing=False)
    return services


def test_weekly_run_scores_every_customer_and_records_metrics(panel):
    result, events = run({}, "first")
    assert result.status == "SUCCEEDED"
    top_level = [event.name for event in events if not event.scope and event.status == "succeeded"]
    assert top_level == ["Cleanup", "PrepareData", "FeaturesToCompute", "PrepareFeatures", "PrepareSets", "Training",
                         "Inference", "Publish", "Done"]
    scoped = [event.name for event in events if event.scope and event.status == "succeeded"]
    assert sorted(scoped) == ["InferenceShard"] * 3 + ["KeepFeatures", "UnloadFeatures", "UnloadScoringSet",
                                                       "UnloadTrainingSet"]  # one InferenceShard per shard
    run_date = result.output["run"]["run_date"]
    assert count(panel, "SELECT count(*) FROM engagement.predictions") == CUSTOMERS
    assert count(panel, "SELECT count(DISTINCT customer_id) FROM engagement.predictions") == CUSTOMERS
    metrics = panel.sql.query("SELECT * FROM engagement.model_metrics").to_pylist()
    assert len(metrics) == 1 and metrics[0]["run_date"].isoformat() == run_date
    assert metrics[0]["rows_scored"] == CUSTOMERS and metrics[0]["bayes_auc"] is not None
    assert abs(metrics[0]["auc"] - metrics[0]["bayes_auc"]) < 0.1  # tight bounds are measured at full size
    assert 0.5 < metrics[0]["bg_bb_auc"] < 1 and 0.5 < metrics[0]["pareto_nbd_auc"] < 1  # the yardsticks, same rows
    (history,) = panel.sql.query("SELECT * FROM engagement.runs").to_pylist()
    assert (history["execution_name"], history["attempt"], history["status"]) == ("first", 0, "SUCCEEDED")
    assert (history["customers"], history["rows_scored"], history["error"]) == (CUSTOMERS, CUSTOMERS, None)
    assert history["rows_trained"] == metrics[0]["rows_trained"] and history["run_date"].isoformat() == run_date
    seconds = {state: history[f"{column}_seconds"] for state, column in (
        ("Cleanup", "cleanup"), ("PrepareData", "prepare_data"), ("PrepareFeatures", "prepare_features"),
        ("PrepareSets", "prepare_sets"),
        ("Training", "training"), ("Inference", "inference"), ("Publish", "publish"))}
    timed = {event.name: event.ended - event.started for event in events if not event.scope and event.ended}
    for state, value in seconds.items():  # the executor's own clock, to the millisecond (Publish: up to its row)
        assert value == pytest.approx(timed[state], abs=0.01) if state != "Publish" else 0 <= value <= timed[state]
    assert history["duration_seconds"] == pytest.approx(sum(seconds.values()), abs=0.01)
    report = result.output["published"]["report_location"]
    page = open(report).read()
    assert report.endswith(f"reports/run_date={run_date}/first.html")
    for section in ("Metrics (the holdout customers of", "Realized:", "Nothing to realize yet", "Curves and scores",
                    "Feature importance and trend", "Drift: population stability index", "Data quality",
                    "Champion/challenger"):
        assert section in page, section
    assert page.count('src="data:image/png;base64,') == 6  # every plot inside the file
    assert "http://" not in page and "https://" not in page  # nothing to fetch: it opens offline


def test_rerunning_a_week_replaces_its_results(panel):
    first, _ = run({}, "first")
    second, events = run({"run_date": first.output["run"]["run_date"]}, "second")
    top_level = [event.name for event in events if not event.scope and event.status == "succeeded"]
    assert "FeaturesToCompute" in top_level and "PrepareFeatures" not in top_level  # every week's rows are kept
    assert count(panel, "SELECT count(*) FROM engagement.predictions") == CUSTOMERS
    versions = panel.sql.query("SELECT DISTINCT model_version FROM engagement.predictions").column(0).to_pylist()
    assert versions == [second.output["run"]["model_version"]]
    assert count(panel, "SELECT count(*) FROM engagement.model_metrics") == 1
    published = panel.catalog.partitions(table("predictions"))
    assert list(published) == [first.output["run"]["run_date"]]
    assert published[first.output["run"]["run_date"]].endswith("/execution=second/")


def published(services) -> dict[str, list]:
    return {name: services.sql.query(f"SELECT * FROM engagement.{name} ORDER BY 1").to_pylist()
            for name in ("predictions", "model_metrics")}


def test_a_bad_week_fails_clearly_and_keeps_that_weeks_earlier_results(panel):
    good, _ = run({}, "good")
    before = published(panel)
    two_weeks_earlier = dt.date.fromisoformat(good.output["run"]["run_date"]) - dt.timedelta(weeks=2)
    panel.catalog.drop_partition(table("snapshots"), two_weeks_earlier.isoformat())
    with pytest.raises(ExecutionFailed) as failure:
        run({"run_date": good.output["run"]["run_date"]}, "bad")
    assert failure.value.error == "DataQualityError"
    assert f"missing weeks: {two_weeks_earlier}" in failure.value.cause
    assert published(panel) == before
    record = read_json(panel.storage, "runs/failures/bad.json")
    assert record["error"] == "DataQualityError" and "missing weeks" in record["cause"]
    assert record["run_date"] == good.output["run"]["run_date"] and record["execution_name"] == "bad"
    assert record["input"] == {"run_date": good.output["run"]["run_date"]} and record["status"] == "FAILED"
    assert panel.storage.list_keys("locks/") == []  # the failed execution gave its week back


def test_own_data_with_only_a_few_columns_trains_and_scores(services, tmp_path):
    kept = ["customer_id", "sessions_7d", "purchases_30d", "revenue_90d"]
    for snapshot in generate_panel(CUSTOMERS, 10, seed=5):
        path = tmp_path / f"week-{snapshot.snapshot_date}.csv"
        snapshot.customers[kept].to_csv(path, index=False)
        ingest_file(services, path, snapshot.snapshot_date)
    result, _ = run({}, "own-data")
    metrics = services.sql.query("SELECT auc, bayes_auc FROM engagement.model_metrics").to_pylist()[0]
    assert result.output["published"]["rows_published"] == CUSTOMERS
    assert metrics["bayes_auc"] is None and metrics["auc"] > 0.7


def test_a_week_whose_published_files_are_damaged_is_replaced_by_running_it_again(panel):
    first, _ = run({}, "first")
    (damaged,) = [key for key in panel.storage.list_keys("results/predictions/") if key.endswith("00001.parquet")]
    panel.storage.write_bytes(damaged, b"PAR1 truncated")
    second, _ = run({"run_date": first.output["run"]["run_date"]}, "second")
    assert second.status == "SUCCEEDED"
    assert count(panel, "SELECT count(*) FROM engagement.predictions") == CUSTOMERS
