"""Every run `runs` lists is listed under its week, also one stopped (SIGTERM) or killed (SIGKILL) in Training:
the week a run without --run-date is for is known only once Cleanup has resolved it."""
import os
import signal
import subprocess
import time

import pytest

from tests.conftest import week
from tests.end_to_end.test_interrupted_run import CLI, task_processes
from tools.cli.app import main
from tools.synthetic.panel import land_synthetic_panel

CUSTOMERS, WEEKS = 1500, 9


def stopped_in_training(home, signal_number: int) -> None:
    """`run` started as a user starts it, then sent `signal_number` while its Training task runs."""
    cli = subprocess.Popen([str(CLI), "run"], env={**os.environ, "PIPELINE_HOME": str(home)},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not task_processes(home):
        assert cli.poll() is None and time.monotonic() < deadline, "Training never started"
        time.sleep(0.05)
    cli.send_signal(signal_number)
    cli.wait(timeout=60)
    for pid in task_processes(home):  # a killed CLI leaves its task running, as ECS would not
        os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("signal_number, status", [(signal.SIGTERM, "INTERRUPTED"), (signal.SIGKILL, "KILLED")])
def test_a_run_stopped_after_cleanup_is_listed_under_its_week(services, home, capsys, signal_number, status):
    land_synthetic_panel(services, CUSTOMERS, WEEKS, seed=2, if_missing=False)
    stopped_in_training(home, signal_number)
    assert main(["runs"]) == 0
    (row,) = [line for line in capsys.readouterr().out.splitlines() if status in line]
    assert row.split()[:4] == ["│", week(WEEKS).isoformat(), "│", status]
