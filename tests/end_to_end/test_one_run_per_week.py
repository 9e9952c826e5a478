"""Two runs of the same week started together, as a user would start them: two processes of the command line."""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import week
from tools.synthetic.panel import land_synthetic_panel

CUSTOMERS, WEEKS = 1500, 9
CLI = Path(sys.executable).with_name("engagement-pipeline")


def start_run(home: Path) -> subprocess.Popen:
    environment = {**os.environ, "PIPELINE_HOME": str(home), "INFERENCE_ROWS_PER_SHARD": "300"}
    return subprocess.Popen([str(CLI), "run", "--run-date", week(WEEKS).isoformat()], env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def predictions(home: Path) -> list[tuple]:
    result = subprocess.run([str(CLI), "query", "SELECT customer_id, churn_probability FROM engagement.predictions "
                             "ORDER BY customer_id", "--format", "csv"], env={**os.environ, "PIPELINE_HOME": str(home)},
                            capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


def test_the_second_run_of_a_running_week_is_refused_and_the_first_publishes_as_alone(services, home, tmp_path):
    land_synthetic_panel(services, CUSTOMERS, WEEKS, seed=11, if_missing=False)
    alone = tmp_path / "alone"
    shutil.copytree(home, alone)

    first = start_run(home)
    deadline = time.monotonic() + 60
    while not list((home / "warehouse" / "locks").glob("*.json")) and first.poll() is None:
        assert time.monotonic() < deadline, "the first run never took its week"
        time.sleep(0.05)
    second = start_run(home)  # started while the first holds the week
    second_out, second_err = second.communicate(timeout=120)
    first_out, first_err = first.communicate(timeout=300)

    assert first.returncode == 0, first_err
    assert second.returncode == 1
    assert "run failed in Cleanup" in second_err
    assert "WeekLockedError: run_date 2026-03-02 is being run by execution 2026-03-02-" in second_err
    assert not list((home / "warehouse" / "locks").glob("*.json"))  # given back by the first, never by the second
    assert subprocess.run([str(CLI), "run", "--run-date", week(WEEKS).isoformat()],
                          env={**os.environ, "PIPELINE_HOME": str(alone)}, capture_output=True).returncode == 0
    assert predictions(home) == predictions(alone) and len(predictions(home)) == CUSTOMERS + 1
