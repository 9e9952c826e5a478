"""One run per week at a time."""
import datetime as dt
import json
import subprocess
import sys

import pytest

from pipeline.keys import week_lock_key
from pipeline.run import Run
from pipeline.storage import read_json
from pipeline.week_lock import WeekLockedError, acquire_week, machine_id, release_week, release_weeks_held_by

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
    acquire_week(storage, run("e1"), DAY)


def test_only_the_holder_gives_the_week_back(storage):
    acquire_week(storage, run("e1"), DAY)
    release_week(storage, run("e2"))
    assert storage.exists(week_lock_key(WEEK))
    release_week(storage, run("e1"))
    acquire_week(storage, run("e2"), DAY)


def test_a_failed_execution_gives_back_every_week_it_holds_and_no_other(storage):
    acquire_week(storage, run("failed"), DAY)
    acquire_week(storage, run("running", WEEK + dt.timedelta(weeks=1)), DAY)
    assert release_weeks_held_by(storage, "failed") == [week_lock_key(WEEK)]
    assert release_weeks_held_by(storage, "failed") == []
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
