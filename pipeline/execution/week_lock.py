"""One run per week at a time: a lock object per run_date, created only if absent (a conditional S3 write on AWS,
an exclusive file locally), taken by Cleanup, held again by every later stage (a resumed or redriven execution
takes it back, and one whose week was taken over stops), and given back by Publish or RecordFailure.

A second execution of a running week is refused at once, naming the execution that holds it. A lock whose holder
is gone (a process on this machine that no longer runs, or older than any run lasts) is taken over.

The holder is an execution *and its attempt* ($$.Execution.RedriveCount, which the door sets for its call): a
redriven attempt takes the week over from the attempt before it, so the late failure record of that earlier
attempt (EventBridge delivers and retries asynchronously) cannot give back a week the redrive is running.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os

from pipeline.core.errors import PipelineError
from pipeline.execution.attempt import current_attempt
from pipeline.execution.identity import Run
from pipeline.execution.processes import machine_id, process_gone
from pipeline.warehouse.layout import LOCKS_PREFIX, week_lock_key
from pipeline.warehouse.objects import read_json
from pipeline.warehouse.ports import Services, Storage

logger = logging.getLogger(__name__)
ATTEMPTS = 3


class WeekLockedError(PipelineError):
    """Another execution is running this week."""


def hold_week(services: Services, run: Run) -> None:
    """Take the run's week for its execution, or keep it: every stage starts with this."""
    acquire_week(services.storage, run, dt.timedelta(hours=services.settings.week_lock_stale_hours))


def acquire_week(storage: Storage, run: Run, stale_after: dt.timedelta) -> None:
    key, attempt = week_lock_key(run.run_date), current_attempt()
    holder = json.dumps({"execution_name": run.execution_name, "attempt": attempt,
                         "acquired_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                         "machine": machine_id(), "pid": os.getpid()}).encode()
    for _ in range(ATTEMPTS):
        if storage.create_exclusive(key, holder):
            return
        try:
            held = storage.read_bytes(key)
        except FileNotFoundError:
            continue  # given back in between: try again
        current = json.loads(held)
        if current["execution_name"] == run.execution_name and current.get("attempt", 0) >= attempt:
            return  # this execution again (a retried Cleanup, a later stage): it holds the week
        if current["execution_name"] == run.execution_name:  # its redrive: the new attempt holds it from now on
            if storage.replace_if_unchanged(key, held, holder):
                return
            continue
        if not _is_stale(current, dt.datetime.now(dt.timezone.utc), stale_after):
            raise WeekLockedError(
                f"run_date {run.run_date} is being run by execution {current['execution_name']} (since "
                f"{current['acquired_at']}); start this week again once it has ended. If it died without a trace, "
                f"delete {storage.uri(key)}")
        # Compare-and-swap: of two runs taking over the same dead holder, one wins and the other looks again.
        if storage.replace_if_unchanged(key, held, holder):
            logger.warning("took over the lock of run_date %s from execution %s, which is gone", run.run_date,
                           current["execution_name"], extra={"stale_lock": current})
            return
    raise WeekLockedError(f"run_date {run.run_date}: its lock changed hands {ATTEMPTS} times while this execution "
                          f"tried to take it; see {storage.uri(key)}")


def is_held(storage: Storage, run_date: dt.date) -> bool:
    return storage.exists(week_lock_key(run_date))


def week_of_lock(key: str) -> str:
    """The run_date a lock key is for."""
    return key.removeprefix(f"{LOCKS_PREFIX}run_date=").removesuffix(".json")


def release_week(storage: Storage, run: Run) -> None:
    _release(storage, week_lock_key(run.run_date), run.execution_name)


def release_weeks_held_by(storage: Storage, execution_name: str, attempt: int) -> list[str]:
    """Give back every week this attempt of the execution holds (it failed or was interrupted, wherever it was);
    not one a later attempt (its redrive) holds."""
    return [key for key in storage.list_keys(LOCKS_PREFIX) if _release(storage, key, execution_name, attempt)]


def _release(storage: Storage, key: str, execution_name: str, attempt: int | None = None) -> bool:
    if not storage.exists(key):
        return False
    holder = read_json(storage, key)
    if holder["execution_name"] != execution_name:
        return False  # not ours: never release another execution's week
    if holder.get("attempt", 0) > (current_attempt() if attempt is None else attempt):
        return False  # a later attempt of this execution (its redrive) runs the week now
    storage.delete_prefix(key)
    return True


def _is_stale(holder: dict, now: dt.datetime, stale_after: dt.timedelta) -> bool:
    if now - dt.datetime.fromisoformat(holder["acquired_at"]) > stale_after:
        return True
    return process_gone(holder.get("machine"), holder["pid"])
