"""A container entrypoint run as Fargate would run it: the module as __main__ on the local stand-ins, then one JSON
line on stderr with the process's peak memory and CPU time."""
import json
import os
import subprocess
import sys

from local_runtime.container import RESOURCES_EVENT, peak_rss_mib, resources_line
from pipeline.core.settings import REPO_ROOT

ENTRYPOINT = """\
import sys
from pipeline.edge.host import current_services
services = current_services()  # the local stand-ins, installed before the module ran
print(f"{__name__} stores under {services.storage.root}")
{ending}
"""


def test_peak_memory_is_this_processs_resident_high_water_mark():
    assert peak_rss_mib() > 0
    ballast = b"\x01" * (64 * 2**20)  # resident pages: the high-water mark can only rise past them
    assert peak_rss_mib() >= 64
    del ballast


def test_the_resources_line_is_one_json_line_with_memory_and_cpu():
    line = resources_line()
    assert "\n" not in line
    reported = json.loads(line)
    assert set(reported) == {"event", "peak_rss_mib", "cpu_seconds"}
    assert reported["event"] == RESOURCES_EVENT and reported["peak_rss_mib"] > 0 and reported["cpu_seconds"] >= 0


def run_entrypoint(tmp_path, home, ending: str) -> subprocess.CompletedProcess:
    (tmp_path / "fake_entrypoint.py").write_text(ENTRYPOINT.replace("{ending}", ending))
    return subprocess.run(
        [sys.executable, "-m", "local_runtime.container", "fake_entrypoint"], cwd=REPO_ROOT, capture_output=True,
        text=True, timeout=60,
        env={**os.environ, "PIPELINE_HOME": str(home), "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO_ROOT)])})


def resource_lines(stderr: str) -> list[dict]:
    lines = []
    for line in stderr.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and document.get("event") == RESOURCES_EVENT:
            lines.append(document)
    return lines


def test_the_entrypoint_runs_as_main_on_the_local_services_and_reports_one_resources_line(tmp_path, home):
    finished = run_entrypoint(tmp_path, home, "sys.exit(0)")

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout == f"__main__ stores under {home / 'warehouse'}\n"  # stdout stays the entrypoint's own
    (reported,) = resource_lines(finished.stderr)
    assert reported["peak_rss_mib"] > 0 and reported["cpu_seconds"] > 0
    assert finished.stderr.splitlines()[-1] == json.dumps(reported)  # the last word, on the way out


def test_an_entrypoint_that_raises_still_reports_and_fails_the_task(tmp_path, home):
    finished = run_entrypoint(tmp_path, home, "raise RuntimeError('training blew up')")

    assert finished.returncode == 1
    assert "RuntimeError: training blew up" in finished.stderr
    assert len(resource_lines(finished.stderr)) == 1


def test_without_exactly_one_module_it_says_how_to_run_it():
    finished = subprocess.run([sys.executable, "-m", "local_runtime.container"], cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=60)
    assert finished.returncode == 1
    assert "usage: python -m local_runtime.container MODULE" in finished.stderr
    assert resource_lines(finished.stderr) == []


FULL_DISK_ENTRYPOINT = """\
import errno, sys
from pipeline.edge.handlers import container_main

def work(run, services):
    raise OSError(errno.ENOSPC, "No space left on device", "/data/models/model.ubj")

sys.exit(container_main(work, state="Training"))
"""


def test_a_task_on_a_full_disk_exits_2_though_neither_its_log_nor_its_resources_line_can_be_written(tmp_path, home):
    """stdout and stderr on /dev/full, Linux's always-full device, as a task's log file on a full disk."""
    (tmp_path / "full_disk_entrypoint.py").write_text(FULL_DISK_ENTRYPOINT)
    run = {"run_date": "2026-03-02", "churn_horizon_weeks": 4, "model_version": "v", "execution_name": "e1"}
    with open("/dev/full", "w") as full:
        finished = subprocess.run(
            [sys.executable, "-m", "local_runtime.container", "full_disk_entrypoint"], cwd=REPO_ROOT, stdout=full,
            stderr=full, timeout=60, env={**os.environ, "PIPELINE_HOME": str(home), "RUN": json.dumps(run),
                                          "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO_ROOT)])})
    assert finished.returncode == 2  # a pipeline error, as the state machine reads it; not 1, a bug
