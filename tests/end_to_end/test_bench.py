"""`make bench` on real runs of a tiny panel: the newest week steady state (after the warm-up weeks) and cold (in a
copy of the panel), every measure of each, and each baseline read its own run's data."""
import json

from tools.bench.cost import load_prices
from tools.bench.measure import bench
from tools.bench.record import write_results
from tools.synthetic.panel import land_synthetic_panel

CUSTOMERS, WEEKS = 300, 9  # 9 weeks: the warm-up week 4 weeks back still has the 5 weeks a run needs


def test_bench_measures_the_steady_state_and_the_cold_run_each_beside_its_baseline(services, home, tmp_path,
                                                                                     monkeypatch):
    monkeypatch.setenv("INFERENCE_ROWS_PER_SHARD", "150")  # two shards: one log and one measure each
    land_synthetic_panel(services, CUSTOMERS, WEEKS, seed=5, if_missing=False)
    results = bench(home, tmp_path, CUSTOMERS, WEEKS, generate_seconds=1.0, prices=load_prices(),
                    prices_file="tools/bench/aws_prices.json")

    assert [week["run_date"] for week in results["warm_up"]] == ["2026-02-02", "2026-02-23"]
    assert results["run_date"] == "2026-03-02"
    steady, cold = results["runs"]["steady_state"], results["runs"]["cold"]
    for run in (steady, cold):
        assert_measured(run)
    assert 0.5 < steady["realized_auc"] <= 1  # the warm-up published the scores 4 weeks back
    weeks_computed = {kind: {state["state"]: state for state in run["states"]}["PrepareFeatures"]["rows"]
                      for kind, run in (("steady", steady), ("cold", cold))}
    assert weeks_computed == {"steady": 1, "cold": WEEKS}  # cold: every week (the 12-week window holds them all)
    assert steady["sql_bytes_read"] > 0 and cold["sql_bytes_read"] > 0
    assert cold["realized_auc"] is None  # a fresh directory: nothing published to realize
    assert not (tmp_path / "cold" / "home" / "logs" / steady["execution_name"]).exists()

    assert results["aws_cost"]["dollars"]["fargate"] > 0 and "2 x" in results["aws_cost"]["usage"]["fargate"][1]
    # the serving store's load: every customer's item, sized as read back, and the week's two pointers
    assert results["aws_cost"]["usage"]["dynamodb"].startswith(f"{CUSTOMERS + 2} items x ")
    assert results["aws_cost"]["dollars"]["dynamodb"] > 0
    ten_million, fifty_million = results["projections"]
    assert ten_million["inference"]["shard_count"] == 100  # 10M at 150 per shard: capped at 100
    assert (ten_million["customers"], fifty_million["customers"]) == (10_000_000, 50_000_000)
    assert fifty_million["training"]["rows"] == 5_000_000  # the default MAX_TRAINING_ROWS
    assert fifty_million["cost"]["dynamodb"] > 100 * results["aws_cost"]["dollars"]["dynamodb"]  # items scale

    json_path, markdown_path = write_results(results, tmp_path / "out")
    assert json.loads(json_path.read_text())["customers"] == CUSTOMERS
    text = markdown_path.read_text()
    assert "| **pipeline / baseline** |" in text and "## Steady state run" in text and "## Cold run" in text


def assert_measured(run: dict) -> None:
    """Every state, every process's memory, and a baseline that read this run's prepared sets."""
    states = {state["state"]: state for state in run["states"]}
    assert list(states) == ["Cleanup", "PrepareData", "PrepareFeatures", "PrepareSets", "Training", "Inference",
                            "Publish"]
    assert states["Inference"]["rows"] == CUSTOMERS and states["Inference"]["rows_per_second"] > 0
    processes = {process["name"]: process for process in run["processes"]}
    assert {"Training task", "InferenceShard 0 task", "InferenceShard 1 task", "bare baseline"} <= set(processes)
    assert processes["InferenceShard 0 task"]["rows"] + processes["InferenceShard 1 task"]["rows"] == CUSTOMERS
    assert all(process["peak_rss_mib"] > 50 for process in processes.values())  # a Python with numpy, at least
    baseline = run["baseline"]
    assert baseline["rows_scored"] == CUSTOMERS  # it read the scoring set PrepareData wrote (Publish deleted it)
    assert baseline["rows_trained"] == states["Training"]["rows"]
    assert run["ratio"] == run["run_seconds"] / baseline["seconds"]
    assert 0.5 < run["auc"] <= 1
