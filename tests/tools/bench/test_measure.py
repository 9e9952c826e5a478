"""`make bench`'s arithmetic and plumbing on fixed numbers and tiny data: the 10M projection, the result files, the
tasks' resource lines and the bare baseline. (The cost formula: test_cost.py; the whole bench on a real run:
end_to_end/.)"""
import datetime as dt
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from local_runtime.container import RESOURCES_EVENT, peak_rss_mib, resources_line
from pipeline.core.settings import REPO_ROOT
from pipeline.warehouse.layout import scoring_prefix, training_prefix
from tools.aws.template import TaskSize
from tools.bench import bare_baseline
from tools.bench.measure import parse_task_log
from tools.bench.projection import Measured, ProcessMeasure, as_json, project, scaled
from tools.bench.record import markdown_report, write_results

TRAINING_SIZE = TaskSize(4096, 16384, ephemeral_gb=50)
SHARD_SIZE = TaskSize(1024, 4096)


# ------------------------------------------------------------------------------------------ projection

def test_scaled_keeps_the_fixed_part_and_scales_the_rest():
    assert scaled(fixed=200, measured=300, measured_rows=1000, rows=10_000) == 200 + 100 * 10
    assert scaled(fixed=200, measured=190, measured_rows=1000, rows=10_000) == 200  # below idle: noise, no growth


def measured_run(max_training_rows: int = 100_000_000, write_units_per_customer: int = 1) -> Measured:
    idle = ProcessMeasure("idle", seconds=2, rows=0, peak_rss_mib=200)
    return Measured(
        customers=1000,
        state_seconds={"Cleanup": 0.5, "PrepareData": 5, "Training": 12, "Inference": 4, "Publish": 1,
                       "KeepFeatures": 0.2},
        training=ProcessMeasure("Training task", seconds=12, rows=8000, peak_rss_mib=210),
        shards=[ProcessMeasure("InferenceShard 0 task", seconds=3, rows=500, peak_rss_mib=210),
                ProcessMeasure("InferenceShard 1 task", seconds=4, rows=500, peak_rss_mib=205)],
        idle_process=idle, rows_per_shard=50_000, max_concurrency=8,
        configured_sizes={"Training": TRAINING_SIZE, "InferenceShard": SHARD_SIZE},
        time_limits={"Training": 3600, "InferenceShard": 1800, "PrepareData": 900, "Publish": 300},
        max_training_rows=max_training_rows, serving_writes_per_second=4000,
        write_units_per_customer=write_units_per_customer)


def test_projection_scales_each_state_with_its_rows():
    projection = project(measured_run(), customers=1_000_000)
    training, inference = projection["training"], projection["inference"]
    assert projection["factor"] == 1000
    assert training["rows"] == 8_000_000
    assert training["seconds"] == pytest.approx(2 + 10 * 1000)
    assert training["peak_rss_mib"] == pytest.approx(200 + 10 * 1000)
    assert inference["shard_count"] == 20 and inference["waves"] == 3  # 1M / 50,000; 8 at a time
    # the worst shard per row: 2 s over idle for 500 rows (time), 10 MiB over idle for 500 rows (memory)
    assert inference["per_shard"]["rows"] == 50_000
    # and its serving items: 50,000 write units at 4,000 a second shared by the 8 shards of its wave
    assert inference["per_shard"]["serving_load_seconds"] == pytest.approx(50_000 * 8 / 4000)
    assert inference["per_shard"]["seconds"] == pytest.approx(2 + 2 / 500 * 50_000 + 100)
    assert inference["per_shard"]["peak_rss_mib"] == pytest.approx(200 + 10 / 500 * 50_000)
    assert projection["state_seconds"] == pytest.approx(
        {"Cleanup": 0.5, "PrepareData": 5000, "Training": 10_002, "Inference": 3 * 302, "Publish": 1,
         "KeepFeatures": 0.2})  # KeepFeatures as measured: its copies follow the weeks, not the rows
    assert projection["total_seconds"] == pytest.approx(0.5 + 5000 + 10_002 + 906 + 1 + 0.2)


def test_a_shard_loads_the_serving_table_at_its_share_of_the_tables_write_rate():
    few_shards = project(measured_run(), customers=100_000)["inference"]  # 2 shards: the wave has 2, not 8
    assert few_shards["per_shard"]["serving_load_seconds"] == pytest.approx(50_000 * 2 / 4000)
    larger_items = project(measured_run(write_units_per_customer=2), customers=1_000_000)["inference"]
    assert larger_items["per_shard"]["serving_load_seconds"] == pytest.approx(2 * 50_000 * 8 / 4000)


def test_projection_sizes_tasks_with_headroom_and_says_what_would_break():
    projection = project(measured_run(), customers=1_000_000)
    # Training: 10,200 MiB x 1.3 = 13,260 -> 13,312 MiB at the configured 4 vCPU
    assert projection["training"]["size"] == TaskSize(4096, 13312, ephemeral_gb=50)
    # a shard: 1,200 MiB x 1.3 = 1,560 -> 2 GB, the smallest 1 vCPU allows
    assert projection["inference"]["per_shard"]["size"] == TaskSize(1024, 2048)
    assert projection["warnings"] == ["Training: 10,002 s projected, over its 3,600 s timeout",
                                      "PrepareData: 5,000 s projected, over its 900 s timeout"]
    too_big = project(measured_run(), customers=20_000_000)
    assert too_big["training"]["size"] is None
    assert any("more than any Fargate task has" in warning for warning in too_big["warnings"])


def test_projected_training_stops_growing_at_the_row_cap():
    capped = project(measured_run(max_training_rows=4_000_000), customers=20_000_000)["training"]
    assert (capped["rows"], capped["rows_before_cap"]) == (4_000_000, 160_000_000)
    assert capped["peak_rss_mib"] == pytest.approx(200 + 10 * 500)  # 10 MiB per 8,000 rows, for 4M rows
    assert capped["size"] == TaskSize(4096, 8192, ephemeral_gb=50)  # 5,200 MiB x 1.3 = 6,760 -> 8 GB, 4 vCPU's least


# ------------------------------------------------------------------------------------------ result files

def run_results(execution_name: str, run_seconds: float, realized_auc: float | None) -> dict:
    """One measured run as bench() reports it (a few states and processes are enough for the tables)."""
    return {
        "execution_name": execution_name, "run_seconds": run_seconds,
        "states": [{"state": "Cleanup", "seconds": 0.5, "rows": None, "rows_what": "", "rows_per_second": None},
                   {"state": "PrepareData", "seconds": 5.0, "rows": 9000, "rows_what": "snapshot rows read",
                    "rows_per_second": 1800.0}],
        "processes": [{"name": "Training task", "seconds": 12.0, "rows": 8000, "peak_rss_mib": 210.4,
                       "cpu_seconds": 20.0}],
        "baseline": {"seconds": 9.0, "peak_rss_mib": 250.0, "rows_trained": 8000, "rows_scored": 1000, "rounds": 9},
        "ratio": run_seconds / 9.0, "auc": 0.81234, "bayes_auc": 0.85, "realized_auc": realized_auc,
        "sql_statements": 5, "sql_bytes_read": 3 * 2**20,
    }


def bench_results() -> dict:
    idle = {"name": "idle", "seconds": 2.0, "rows": 0, "peak_rss_mib": 200.0, "cpu_seconds": 0.3}
    projections = [as_json(project(measured_run(max_training_rows=4_000_000), customers)) | {
        "cost": {"total": 1.25}, "idle_process": idle} for customers in (1_000_000, 50_000_000)]
    return {
        "customers": 1000, "weeks": 9, "run_date": "2026-03-02", "churn_horizon_weeks": 4, "machine_cpus": 2,
        "generate_seconds": 1.0,
        "warm_up": [{"run_date": "2026-02-02", "execution_name": "warm-1"},
                    {"run_date": "2026-02-23", "execution_name": "warm-2"}],
        "runs": {"steady_state": run_results("bench-steady", 22.5, realized_auc=0.79876),
                 "cold": run_results("bench-cold", 18.0, realized_auc=None)},
        "aws_cost": {"prices_file": "tools/bench/aws_prices.json", "region": "us-east-1",
                     "usage": {"fargate": ["Training 1 x 12.0 s at 4 vCPU, 16 GB"], "lambda": "3 invocations",
                               "step_functions": "7 state transitions", "athena": "3 queries",
                               "dynamodb": "1,002 items x 380 bytes loaded (1,002 write units), kept 35 days"},
                     "dollars": {"fargate": 0.001, "lambda": 0.0001, "step_functions": 0.0002, "athena": 0.0003,
                                 "dynamodb": 0.0007, "total": 0.0023}},
        "projections": projections,
    }


def test_results_are_written_as_json_and_markdown_named_by_size(tmp_path):
    json_path, markdown_path = write_results(bench_results(), tmp_path / "out")
    assert (json_path.name, markdown_path.name) == ("bench-1000x9.json", "bench-1000x9.md")
    written = json.loads(json_path.read_text())
    assert written["runs"]["steady_state"]["ratio"] == 2.5 and written["runs"]["cold"]["ratio"] == 2.0
    assert [projection["training"]["size"]["memory_mib"] for projection in written["projections"]] == [8192, 8192]
    assert markdown_path.read_text() == markdown_report(bench_results())


def test_the_markdown_sets_the_steady_state_and_cold_runs_side_by_side():
    text = markdown_report(bench_results())
    assert "# Bench: 1,000 customers x 9 weeks" in text
    assert "after unmeasured runs of 2026-02-02 and 2026-02-23 in the same data directory" in text
    assert "|  | steady state | cold |" in text
    assert "| weekly run (s) | 22.5 | 18.0 |" in text
    assert "| bare baseline (s) | 9.0 | 9.0 |" in text
    assert "| **pipeline / baseline** | **2.50x** | **2.00x** |" in text
    assert "| holdout AUC | 0.8123 | 0.8123 |" in text
    assert "| realized AUC (the scores published 4 weeks before) | 0.7988 | none |" in text
    assert "| SQL statements, MB read (Athena's data scanned) | 5, 3.0 MB | 5, 3.0 MB |" in text


def test_the_markdown_gives_each_run_its_states_and_processes():
    text = markdown_report(bench_results())
    steady = text.index("## Steady state run (execution bench-steady)")
    cold = text.index("## Cold run (execution bench-cold)")
    for section in (text[steady:cold], text[cold:text.index("## AWS cost")]):
        assert "| PrepareData | 5.0 | 9,000 snapshot rows read | 1,800 |" in section
        assert "| bare baseline (read, train, score, write) | 9.0 | 8,000 trained, 1,000 scored |  |" in section
        assert "| Training task | 8,000 | 210 | 20.0 |" in section


def test_the_markdown_costs_and_projects_the_steady_state_run():
    text = markdown_report(bench_results())
    cost = text[text.index("## AWS cost"):]
    assert "From the steady-state run, the one that happens every week." in cost
    assert "| DynamoDB | 1,002 items x 380 bytes loaded (1,002 write units), kept 35 days | 0.00070 |" in cost
    assert "| **total** |  | **0.0023** |" in cost
    assert "A linear projection of the steady-state run" in cost
    assert "idle-process start-up, 2.0 s and 200 MiB here" in cost
    assert "## 1,000,000 customers, on paper" in cost and "## 50,000,000 customers, on paper" in cost
    assert "A shard's time holds 100.0 s of loading its customers into the serving table" in cost
    assert "| Training | 4,000,000 (capped from 8,000,000) | 5,200 | 4 vCPU, 8 GB |" in cost
    assert "| Training | 4,000,000 (capped from 400,000,000) | 5,200 | 4 vCPU, 8 GB |" in cost
    assert "- PrepareData: 5,000 s projected, over its 900 s timeout" in cost


# ------------------------------------------------------------------------------------------ task resources

def test_the_resources_line_is_json_the_bench_reads_back():
    parsed = parse_task_log(["not json", "[1, 2]", json.dumps({"message": "x succeeded", "result": {"shard": 3}}),
                             resources_line()])
    assert parsed["result"] == {"shard": 3}
    assert parsed["peak_rss_mib"] > 0 and parsed["cpu_seconds"] >= 0
    assert json.loads(resources_line())["event"] == RESOURCES_EVENT


def test_a_task_process_reports_its_own_peak_memory_even_when_it_exits_with_an_error(home, tmp_path):
    (tmp_path / "exits_three.py").write_text("import sys\nsys.exit(3)\n")
    ballast = b"\x01" * (300 * 2**20)  # resident pages: a launcher holding more than a small task ever will
    assert peak_rss_mib() >= 300
    finished = subprocess.run(
        [sys.executable, "-m", "local_runtime.container", "exits_three"], cwd=REPO_ROOT, capture_output=True,
        text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO_ROOT)])})
    del ballast
    assert finished.returncode == 3
    reported = parse_task_log(finished.stderr.splitlines())  # stdout stays the entrypoint's own records
    # getrusage's ru_maxrss would carry the parent's 300+ MiB over to the child; the line must not
    assert 0 < reported["peak_rss_mib"] < 300


# ------------------------------------------------------------------------------------------ bare baseline

RUN_DATE = dt.date(2026, 3, 2)
EXECUTION = SimpleNamespace(run_date=RUN_DATE, execution_name="bench-1")  # whose prepared sets the baseline reads


def prepared_rows(customers: int, week: dt.date, labelled: bool) -> pa.Table:
    """A few rows shaped like PrepareData's output: features, and for training the label and its weight."""
    ids = [f"c{index:03d}" for index in range(customers)]
    columns = {"customer_id": ids, "snapshot_date": [week] * customers,
               "sessions_7d": [index % 7 for index in range(customers)],
               "plan": [("free", "basic", "premium")[index % 3] for index in range(customers)]}
    if labelled:
        columns |= {"churned": [int(index % 7 == 0 or index % 5 == 0) for index in range(customers)],
                    "sample_weight": [1.0 + index % 2 for index in range(customers)]}
    return pa.table(columns)


def land_prepared_set(warehouse) -> None:
    for part, weeks_back in (("holdout", 4), (None, 4), (None, 5)):
        week = RUN_DATE - dt.timedelta(weeks=weeks_back)
        folder = warehouse / training_prefix(EXECUTION) / "attempt=0" / f"training_part={part or week}"
        folder.mkdir(parents=True)
        pq.write_table(prepared_rows(60, week, labelled=True), folder / "part-0")  # UNLOAD: no extension
    for shard in (0, 1):
        folder = warehouse / scoring_prefix(EXECUTION) / "attempt=0" / f"shard={shard}"
        folder.mkdir(parents=True)
        rows = prepared_rows(40, RUN_DATE, labelled=False).slice(shard * 20, 20)
        pq.write_table(rows, folder / "data_0.parquet")


def test_the_bare_baseline_trains_and_scores_every_customer(tmp_path, capsys):
    land_prepared_set(tmp_path / "warehouse")
    out = tmp_path / "predictions.parquet"
    bare_baseline.main(["--home", str(tmp_path), "--run-date", RUN_DATE.isoformat(),
                        "--execution", EXECUTION.execution_name, "--rounds", "5",
                        "--out", str(out)])
    summary, resources = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    # the fitted parts, not the holdout's
    assert summary["rows_trained"] == 120 and summary["rows_scored"] == 40 and summary["rounds"] == 5
    assert "sample_weight" not in summary["features"] and "training_part" not in summary["features"]
    assert set(summary["features"]) == {"sessions_7d", "plan"}
    assert resources["event"] == RESOURCES_EVENT
    predictions = pq.read_table(out).to_pydict()
    assert sorted(predictions["customer_id"]) == [f"c{index:03d}" for index in range(40)]
    assert all(0 < probability < 1 for probability in predictions["churn_probability"])
    assert len(set(predictions["churn_probability"])) > 1  # the model learned something from the features
