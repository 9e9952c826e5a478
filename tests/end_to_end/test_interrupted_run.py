"""A run stopped with SIGTERM while Training runs, as a user (or a scheduler) would stop it."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from local_runtime.run_records import past_runs
from pipeline.warehouse.tables import table
from tools.synthetic.panel import land_synthetic_panel

CLI = Path(sys.executable).with_name("engagement-pipeline")


def task_processes(home: Path) -> list[int]:
    """Container processes started for this data directory that are still alive."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if (proc.name.isdigit() and b"local_runtime.container" in (proc / "cmdline").read_bytes()
                    and f"PIPELINE_HOME={home}".encode() in (proc / "environ").read_bytes()):
                found.append(int(proc.name))
        except OSError:
            continue  # ended while looked at
    return found


def test_sigterm_stops_the_training_task_records_the_run_and_gives_the_week_back(services, home):
    land_synthetic_panel(services, 3000, 9, seed=2, if_missing=False)
    cli = subprocess.Popen([str(CLI), "run"], env={**os.environ, "PIPELINE_HOME": str(home)},
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not task_processes(home):
        assert cli.poll() is None and time.monotonic() < deadline, "Training never started"
        time.sleep(0.05)
    cli.send_signal(signal.SIGTERM)
    _, err = cli.communicate(timeout=60)

    assert cli.returncode == 130 and "run interrupted" in err
    assert task_processes(home) == [] and not services.storage.list_keys("models/")  # stopped, not waited for
    assert past_runs(services.storage)[-1]["status"] == "INTERRUPTED"
    assert services.storage.list_keys("locks/") == []
    assert services.catalog.partitions(table("predictions")) == {}
