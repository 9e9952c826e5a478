"""Is the process that wrote a record still running? Known gone only for an ended process of this machine."""
import os
import socket
import subprocess
import sys

from pipeline.execution import processes
from pipeline.execution.processes import machine_id, process_gone


def ended_child() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: its pid names no process now
    return child.pid


def test_this_process_is_not_gone():
    assert not process_gone(machine_id(), os.getpid())


def test_a_child_that_ended_is_gone():
    assert process_gone(machine_id(), ended_child())


def test_a_process_of_another_machine_is_never_known_gone():
    pid = ended_child()
    assert not process_gone("another-boot-id", pid)
    assert not process_gone(None, pid)  # a record that names no machine


def test_a_running_process_of_another_user_is_not_gone(monkeypatch):
    assert not process_gone(machine_id(), 1)  # init: always running

    def refused(pid, signal):
        raise PermissionError(1, "Operation not permitted")  # what kill(pid, 0) says of another user's process

    monkeypatch.setattr(processes.os, "kill", refused)
    assert not process_gone(machine_id(), 12345)


def test_the_machine_is_its_boot_id_else_its_host_name(tmp_path, monkeypatch):
    boot_id = tmp_path / "boot_id"
    boot_id.write_text("6f1c0c1e-0000-4000-8000-000000000001\n")
    monkeypatch.setattr(processes, "BOOT_ID", boot_id)
    assert machine_id() == "6f1c0c1e-0000-4000-8000-000000000001"
    monkeypatch.setattr(processes, "BOOT_ID", tmp_path / "absent")
    assert machine_id() == socket.gethostname()


def test_the_machine_id_is_the_same_on_every_call():
    assert machine_id() == machine_id() and machine_id()
