"""Each Lambda handler and container entrypoint, called the way the state machine calls it."""
import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from lambdas.cleanup.app import handler as cleanup
from lambdas.prepare_data.app import handler as prepare_data
from lambdas.publish.app import handler as publish
from lambdas.record_failure.app import handler as record_failure
from pipeline.config import REPO_ROOT
from pipeline.errors import DataQualityError, PipelineError
from pipeline.land import ingest_file, land_synthetic_panel
from pipeline.storage import read_json, write_json
from pipeline.tables import table

CUSTOMERS, WEEKS = 800, 9


@pytest.fixture
def panel(services):
    land_synthetic_panel(services, CUSTOMERS, WEEKS, seed=3, if_missing=False)
    return services


def run_container(name: str, environment: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **environment}
    return subprocess.run([sys.executable, "-m", f"containers.{name}.entrypoint"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True)


def test_cleanup_resolves_the_newest_week_and_removes_stale_outputs(panel):
    write_json(panel.storage, "work/run_date=2026-03-02/training/stale.json", {})
    run = cleanup({"input": {}, "execution_name": "exec-1"})
    assert run["run_date"] == "2026-03-02"  # the 9th weekly snapshot from 2026-01-05
    assert run["churn_horizon_weeks"] == 4 and run["execution_name"] == "exec-1"
    assert run["model_version"].startswith("20260302-")
    assert run["files_removed"] == 1 and not panel.storage.list_keys("work/")


def test_cleanup_takes_the_week_of_the_scheduled_time(panel):
    run = cleanup({"input": {"scheduled_time": "2026-02-04T06:00:00Z"}, "execution_name": "scheduled"})
    assert run["run_date"] == "2026-02-02"


def test_prepare_data_writes_training_and_scoring_sets(panel, monkeypatch):
    monkeypatch.setenv("INFERENCE_ROWS_PER_SHARD", "300")
    run = cleanup({"input": {}, "execution_name": "exec-1"})
    prepared = prepare_data({"run": run})
    assert prepared["scoring_rows"] == CUSTOMERS
    assert prepared["training_rows"] == CUSTOMERS * (WEEKS - 4)  # weeks whose 4-week horizon is complete
    assert prepared["shard_count"] == 3 and prepared["shards"] == [0, 1, 2]
    assert panel.storage.list_keys("work/run_date=2026-03-02/scoring/shard=2/")


def test_prepare_data_refuses_too_few_weeks(panel):
    run = cleanup({"input": {"run_date": "2026-01-26"}, "execution_name": "early"})
    with pytest.raises(DataQualityError, match="4 weekly snapshot.*needs at least 9"):
        prepare_data({"run": run})


def test_prepare_data_names_a_missing_week(panel):
    snapshots = table("snapshots")
    panel.catalog.drop_partition(snapshots, "2026-01-19")
    run = cleanup({"input": {}, "execution_name": "gap"})
    with pytest.raises(DataQualityError, match="missing weeks: 2026-01-19"):
        prepare_data({"run": run})


def test_containers_train_score_and_publish(panel, home):
    run = cleanup({"input": {}, "execution_name": "exec-1"})
    prepared = prepare_data({"run": run})
    trained = run_container("training", {"RUN_DATE": run["run_date"], "MODEL_VERSION": run["model_version"],
                                         "CHURN_HORIZON_WEEKS": "4"})
    assert trained.returncode == 0, trained.stderr
    metrics = json.loads(trained.stdout.strip().splitlines()[-1])
    assert 0.5 < metrics["auc"] <= 1 and metrics["bayes_auc"] is not None
    for shard in prepared["shards"]:
        scored = run_container("inference", {"RUN_DATE": run["run_date"], "MODEL_VERSION": run["model_version"],
                                             "SHARD": str(shard), "EXECUTION_NAME": "exec-1"})
        assert scored.returncode == 0, scored.stderr
    published = publish({"run": run, "expected_rows": prepared["scoring_rows"]})
    assert published["rows_published"] == CUSTOMERS
    assert set(panel.catalog.partitions(table("predictions"))) == {run["run_date"]}


def test_publish_refuses_a_partial_inference_and_publishes_nothing(panel):
    run = cleanup({"input": {}, "execution_name": "exec-1"})
    with pytest.raises(DataQualityError, match="inference wrote 0 predictions .* expected 800"):
        publish({"run": run, "expected_rows": CUSTOMERS})
    assert panel.catalog.partitions(table("predictions")) == {}


def test_container_without_its_environment_fails_with_a_typed_error(home):
    result = run_container("training", {"RUN_DATE": "", "MODEL_VERSION": "x", "CHURN_HORIZON_WEEKS": "4"})
    assert result.returncode == 2
    expected = 'PIPELINE_ERROR {"errorType": "PipelineError", "errorMessage": "environment variable RUN_DATE'
    assert expected in result.stderr


def test_record_failure_keeps_the_error(services):
    record = record_failure({"execution_name": "exec-9",
                             "state": {"error": {"Error": "DataQualityError", "Cause": "missing week"}}})
    assert record["error"] == "DataQualityError" and record["run"] is None
    assert read_json(services.storage, "runs/failures/exec-9.json")["cause"] == "missing week"


def test_a_scheduled_run_whose_week_has_not_landed_fails_instead_of_rerunning_the_last(panel):
    with pytest.raises(DataQualityError, match="no snapshot landed for the week up to 2026-03-16.*2026-03-02"):
        cleanup({"input": {"scheduled_time": "2026-03-16T06:00:00Z"}, "execution_name": "late"})


@pytest.mark.parametrize("horizon", [0, "abc", -1])
def test_a_bad_horizon_in_the_execution_input_is_refused(panel, horizon):
    with pytest.raises(PipelineError, match="churn_horizon_weeks must be a positive integer"):
        cleanup({"input": {"churn_horizon_weeks": horizon}, "execution_name": "bad"})


def test_prepare_data_refuses_a_truncated_week(panel, tmp_path):
    path = tmp_path / "truncated.csv"
    path.write_text("customer_id,sessions_7d\n" + "".join(f"c{i},1\n" for i in range(100)))
    ingest_file(panel, path, dt.date(2026, 3, 2))
    run = cleanup({"input": {}, "execution_name": "truncated"})
    with pytest.raises(DataQualityError, match="snapshot 2026-03-02 has 100 customers, less than 50% of the week"):
        prepare_data({"run": run})
