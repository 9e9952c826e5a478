"""One run per week at a time."""
import datetime as dt
import json
import subprocess
import sys

import pytest

from pipeline.execution.attempt import execution_attempt
from pipeline.execution.identity import Run
from pipeline.execution.processes import machine_id
from pipeline.execution.week_lock import WeekLockedError, acquire_week, release_week, release_weeks_held_by
from pipeline.warehouse.layout import week_lock_key
from pipeline.warehouse.objects import read_json

WEEK = dt.date(2026, 3, 2)
DAY = dt.timedelta(hours=24)


def run(execution: str, week: dt.date = WEEK) -> Run:
    return Run(run_date=week, churn_horizon_weeks=4, model_version="v", execution_name=execution)


@pytest.fixture(params=["folder", "s3"])
def storage(request, services):
    if request.param == "folder":
        return services.storage
    return request.getfixturevalue("aws").storage


def test_a_second_execution_of_a_running_week_is_refused_naming_the_first(storage):
    acquire_week(storage, run("scheduled"), DAY)
    with pytest.raises(WeekLockedError, match="run_date 2026-03-02 is being run by execution scheduled"):
        acquire_week(storage, run("operator"), DAY)
    acquire_week(storage, run("other-week", WEEK + dt.timedelta(weeks=1)), DAY)  # other weeks are free
    assert read_json(storage, week_lock_key(WEEK))["execution_name"] == "scheduled"


def test_the_same_execution_takes_its_week_again(storage):
    """A retried Cleanup or a redriven execution already holds the week."""
    acquire_week(storage, run("e1"), DAY)
    taken = read_json(storage, week_lock_key(WEEK))
    acquire_week(storage, run("e1"), DAY)
    assert read_json(storage, week_lock_key(WEEK)) == taken  # kept as it was, not taken anew


def test_only_the_holder_gives_the_week_back(storage):
    acquire_week(storage, run("e1"), DAY)
    release_week(storage, run("e2"))
    assert storage.exists(week_lock_key(WEEK))
    release_week(storage, run("e1"))
    acquire_week(storage, run("e2"), DAY)


def test_a_failed_execution_gives_back_every_week_it_holds_and_no_other(storage):
    acquire_week(storage, run("failed"), DAY)
    acquire_week(storage, run("running", WEEK + dt.timedelta(weeks=1)), DAY)
    assert release_weeks_held_by(storage, "failed", attempt=0) == [week_lock_key(WEEK)]
    assert release_weeks_held_by(storage, "failed", attempt=0) == []
    assert storage.exists(week_lock_key(WEEK + dt.timedelta(weeks=1)))


def test_a_lock_whose_process_died_on_this_machine_is_taken_over(services):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    holder = {"execution_name": "killed", "acquired_at": dt.datetime.now(dt.timezone.utc).isoformat(),
              "machine": machine_id(), "pid": int(dead.stdout)}
    services.storage.write_bytes(week_lock_key(WEEK), json.dumps(holder).encode())
    acquire_week(services.storage, run("next"), DAY)
    assert read_json(services.storage, week_lock_key(WEEK))["execution_name"] == "next"


def test_a_lock_older_than_any_run_is_taken_over_and_one_from_elsewhere_is_not(services):
    started = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)
    holder = {"execution_name": "elsewhere", "acquired_at": started.isoformat(), "machine": "another", "pid": 1}
    services.storage.write_bytes(week_lock_key(WEEK), json.dumps(holder).encode())
    with pytest.raises(WeekLockedError, match="by execution elsewhere"):
        acquire_week(services.storage, run("next"), DAY)  # another machine's pid says nothing here
    acquire_week(services.storage, run("next"), dt.timedelta(hours=1))
    assert read_json(services.storage, week_lock_key(WEEK))["execution_name"] == "next"


def test_of_two_runs_taking_over_a_dead_holder_only_one_wins(storage):
    stale = json.dumps({"execution_name": "dead", "acquired_at": "2020-01-01T00:00:00+00:00", "machine": "x",
                        "pid": 1}).encode()
    storage.write_bytes(week_lock_key(WEEK), stale)
    assert storage.replace_if_unchanged(week_lock_key(WEEK), stale, b'{"execution_name": "first"}')
    assert not storage.replace_if_unchanged(week_lock_key(WEEK), stale, b'{"execution_name": "second"}')
    assert read_json(storage, week_lock_key(WEEK)) == {"execution_name": "first"}
    assert not storage.replace_if_unchanged("locks/none.json", b"", b"x")  # gone: nothing to replace


def test_a_lock_given_back_while_it_is_read_is_taken(storage, monkeypatch):
    acquire_week(storage, run("leaving"), DAY)
    read_bytes, released = type(storage).read_bytes, []

    def released_first(self, key):
        if not released:  # the holder publishes and gives the week back just as this run reads its lock
            released.append(self.delete_prefix(key))
        return read_bytes(self, key)

    monkeypatch.setattr(type(storage), "read_bytes", released_first)
    acquire_week(storage, run("next"), DAY)
    assert read_json(storage, week_lock_key(WEEK))["execution_name"] == "next"


def test_a_redrive_takes_the_week_over_so_the_late_failure_of_the_attempt_before_keeps_it(storage):
    acquire_week(storage, run("e1"), DAY)  # attempt 0 fails in Training...
    with execution_attempt(1):  # ...and is redriven before its failure is recorded
        acquire_week(storage, run("e1"), DAY)
    assert read_json(storage, week_lock_key(WEEK))["attempt"] == 1

    assert release_weeks_held_by(storage, "e1", attempt=0) == []  # attempt 0's failure, delivered late
    acquire_week(storage, run("e1"), DAY)  # attempt 0's stages no longer take it back
    assert read_json(storage, week_lock_key(WEEK))["attempt"] == 1
    with pytest.raises(WeekLockedError, match="being run by execution e1"):
        acquire_week(storage, run("e2"), DAY)
    assert release_weeks_held_by(storage, "e1", attempt=1) == [week_lock_key(WEEK)]  # the redrive's own failure
