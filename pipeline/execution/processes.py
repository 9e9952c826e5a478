"""Is the process that wrote a record still running? Only a process of this machine can be known gone: a record
carries its machine (the boot) and pid. The week lock and the local run records both ask."""
from __future__ import annotations

import os
import socket
from pathlib import Path

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def machine_id() -> str:
    """This machine's boot: a Lambda sandbox or Fargate task has one of its own, so a pid is only compared with
    the pids of the machine that wrote it."""
    return BOOT_ID.read_text().strip() if BOOT_ID.exists() else socket.gethostname()


def process_gone(machine: str | None, pid: int) -> bool:
    """Has process `pid` of `machine` ended? Only this machine's processes can be known gone."""
    if machine != machine_id():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False
