"""Run a container entrypoint the way Fargate would, against the local stand-ins:

    python -m local_runtime.container containers.training.entrypoint

installs the local services in this process, then runs the entrypoint module as `__main__`, unchanged. When the
entrypoint ends (by returning or by `sys.exit`), one JSON line on stderr reports the process's peak memory and CPU
time: what CloudWatch Container Insights would show on Fargate, and what `make bench` reads from the task's log
(the launcher writes stdout and stderr there). Stdout stays the entrypoint's own log records.
"""
import json
import resource
import runpy
import sys

RESOURCES_EVENT = "task_resources"


def peak_rss_mib() -> float:
    """This process's peak resident memory. On Linux, VmHWM: getrusage's ru_maxrss of a process started by
    fork + exec also counts the parent's peak at the fork (the kernel carries it over), so a task started by a
    launcher holding 1 GiB would report at least 1 GiB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage / 1024 if sys.platform != "darwin" else usage / 2**20  # Linux KiB, macOS bytes


def resources_line() -> str:
    """This process's peak memory and CPU seconds so far, as one JSON log line."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return json.dumps({"event": RESOURCES_EVENT, "peak_rss_mib": round(peak_rss_mib(), 1),
                       "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2)})


def report_resources() -> None:
    """The resources line on stderr, unless the disk it goes to is full: then it is lost, and the exit code the
    entrypoint chose stands (an OSError raised on the way out would turn it into 1, a bug)."""
    try:
        print(resources_line(), file=sys.stderr, flush=True)
    except OSError:
        pass


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m local_runtime.container MODULE")
    from local_runtime.host import install_local_host  # here: importing resources_line stays light

    install_local_host()
    try:
        runpy.run_module(sys.argv[1], run_name="__main__", alter_sys=True)
    finally:  # entrypoints end with sys.exit(code): report on the way out, whatever the code
        report_resources()
