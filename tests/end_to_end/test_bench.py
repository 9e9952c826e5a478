"""`make bench` on a real weekly run of a tiny panel: every measure is there, and the baseline read the run's data."""
import json

from tools.bench.cost import load_prices
from tools.bench.measure import bench
from tools.bench.record import write_results
from tools.synthetic.panel import land_synthetic_panel

CUSTOMERS, WEEKS = 300, 9


def test_bench_measures_the_run_its_tasks_and_the_baseline_on_the_same_data(services, home, tmp_path, monkeypatch):
    monkeypatch.setenv("INFERENCE_ROWS_PER_SHARD", "150")  # two shards: one log and one measure each
    land_synthetic_panel(services, CUSTOMERS, WEEKS, seed=5, if_missing=False)
    results = bench(home, tmp_path, CUSTOMERS, WEEKS, generate_seconds=1.0, prices=load_prices(),
                    prices_file="tools/bench/aws_prices.json")

    assert [state["state"] for state in results["states"]] == ["Cleanup", "PrepareData", "PrepareSets", "Training",
                                                                 "Inference", "Publish"]
    inference = next(state for state in results["states"] if state["state"] == "Inference")
    assert inference["rows"] == CUSTOMERS and inference["rows_per_second"] > 0
    processes = {process["name"]: process for process in results["processes"]}
    assert {"Training task", "InferenceShard 0 task", "InferenceShard 1 task", "bare baseline"} <= set(processes)
    assert processes["InferenceShard 0 task"]["rows"] + processes["InferenceShard 1 task"]["rows"] == CUSTOMERS
    assert all(process["peak_rss_mib"] > 50 for process in processes.values())  # a Python with numpy, at least
    baseline = results["baseline"]
    assert baseline["rows_scored"] == CUSTOMERS  # it read the scoring set PrepareData wrote (Publish deleted it)
    assert baseline["rows_trained"] == next(s["rows"] for s in results["states"] if s["state"] == "Training")
    assert results["ratio"] == results["run_seconds"] / baseline["seconds"]
    assert 0.5 < results["auc"] <= 1
    assert results["aws_cost"]["dollars"]["fargate"] > 0 and "2 x" in results["aws_cost"]["usage"]["fargate"][1]
    assert results["projection"]["inference"]["shard_count"] == 100  # 10M at 150 per shard: capped at 100

    json_path, markdown_path = write_results(results, tmp_path / "out")
    assert json.loads(json_path.read_text())["customers"] == CUSTOMERS
    assert "pipeline / baseline" in markdown_path.read_text()
