"""The container entrypoints as processes, the way the local launcher (and Fargate) runs them."""
import json
import os
import subprocess
import sys

import pytest

from lambdas.cleanup.app import handler as cleanup
from lambdas.prepare_data.app import handler as prepare_data
from lambdas.publish.app import handler as publish
from pipeline.core.settings import REPO_ROOT
from pipeline.warehouse.tables import table
from tests.conftest import PANEL_CUSTOMERS as CUSTOMERS
from tests.conftest import prepare_sets


def run_container(name: str, environment: dict[str, str]) -> subprocess.CompletedProcess:
    """The entrypoint as a process, as the local launcher runs it (the local services installed first)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **environment}
    return subprocess.run([sys.executable, "-m", "local_runtime.container", f"containers.{name}.entrypoint"],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True)


def log_records(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines()]


@pytest.mark.slow
def test_containers_train_score_and_publish(panel, home):
    run = cleanup({"input": {}, "execution_name": "exec-1"})["run"]
    prepared = prepare_data({"run": run})
    prepare_sets(panel, run, prepared)
    trained = run_container("training", {"RUN": json.dumps(run)})
    assert trained.returncode == 0, trained.stderr
    (*_, done) = log_records(trained.stdout)
    assert done["message"] == "containers.training.entrypoint succeeded" and done["run_date"] == run["run_date"]
    assert done["execution_name"] == "exec-1"
    assert 0.5 < done["result"]["auc"] <= 1 and done["result"]["bayes_auc"] is not None
    for shard in prepared["shards"]:
        scored = run_container("inference", {"RUN": json.dumps(run), "SHARD": str(shard)})
        assert scored.returncode == 0, scored.stderr
        assert log_records(scored.stdout)[-1]["result"] == {"shard": shard, "rows_scored": CUSTOMERS}
    published = publish({"run": run, "expected_rows": prepared["scoring_rows"],
                         "execution_id": "arn:aws:states:local:000000000000:execution:pipeline:exec-1"})
    assert published["rows_published"] == CUSTOMERS
    assert set(panel.catalog.partitions(table("predictions"))) == {run["run_date"]}


@pytest.mark.parametrize("environment, message", [
    ({"RUN": ""}, "environment variable RUN is required"),
    ({"RUN": "{not json"}, "RUN environment variable: not JSON"),
    ({"RUN": '{"run_date": "2026-03-02"}'}, "RUN environment variable: churn_horizon_weeks: Field required"),
])
def test_a_container_without_its_run_exits_2_and_logs_why(home, environment, message):
    result = run_container("training", environment)
    assert result.returncode == 2
    duration, failure = log_records(result.stdout)
    assert duration["State"] == "Training" and duration["outcome"] == "failed" and "_aws" in duration
    assert failure["level"] == "ERROR" and failure["error_type"] == "EventError"
    assert message in failure["error_message"] and "traceback" not in failure
