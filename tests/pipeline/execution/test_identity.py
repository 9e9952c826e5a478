"""The run's identity: resolving the week, the model version, and parsing with every bad field named."""
import datetime as dt

import pytest

from pipeline.core.errors import DataQualityError, EventError
from pipeline.execution.identity import ExecutionInput, Run, model_version_for, parse, resolve_run, resolve_run_date
from tests.conftest import land_weeks, week


@pytest.fixture
def three_weeks(services):
    land_weeks(services, {"a": [1, 1, 1]})
    return services


def test_the_requested_week_wins(three_weeks):
    assert resolve_run_date(three_weeks, ExecutionInput(run_date="2026-01-12")) == week(2)


def test_no_input_runs_the_newest_landed_week(three_weeks):
    assert resolve_run_date(three_weeks, ExecutionInput()) == week(3)


def test_a_scheduled_run_takes_the_week_landed_in_the_seven_days_up_to_its_time(three_weeks):
    on_time = ExecutionInput(scheduled_time="2026-01-21T06:00:00Z")  # a Wednesday after week 3 (2026-01-19)
    assert resolve_run_date(three_weeks, on_time) == week(3)
    with pytest.raises(DataQualityError, match="no snapshot landed for the week up to 2026-02-02"):
        resolve_run_date(three_weeks, ExecutionInput(scheduled_time="2026-02-02T06:00:00+00:00"))


def test_the_week_is_the_schedules_own_day_not_the_utc_one(three_weeks):
    # Monday 2026-01-19 00:30 in Paris is still Sunday in UTC: by the UTC date the run would redo the week before.
    scheduled = "2026-01-18T23:30:00Z"
    assert resolve_run_date(three_weeks, ExecutionInput(scheduled_time=scheduled)) == week(2)
    in_paris = ExecutionInput(scheduled_time=scheduled, schedule_timezone="Europe/Paris")
    assert in_paris.scheduled_day() == dt.date(2026, 1, 19)
    assert resolve_run_date(three_weeks, in_paris) == week(3)


def test_an_unknown_time_zone_is_refused_with_its_name():
    with pytest.raises(EventError, match="schedule_timezone: .*IANA time zone such as Europe/Paris, got 'Mars/Olympus'"):
        parse(ExecutionInput, {"scheduled_time": "2026-01-18T23:30:00Z", "schedule_timezone": "Mars/Olympus"}, "input")


def test_nothing_landed_says_what_to_do(services):
    with pytest.raises(DataQualityError, match="run `generate` or `ingest FILE` first"):
        resolve_run_date(services, ExecutionInput())


def test_the_model_version_is_stable_per_execution_and_distinct_across_them():
    assert model_version_for(week(1), "exec-a") == model_version_for(week(1), "exec-a")
    assert model_version_for(week(1), "exec-a") != model_version_for(week(1), "exec-b")
    assert model_version_for(week(1), "exec-a").startswith("20260105-")


def test_resolve_run_takes_the_horizon_from_the_input_or_the_settings(three_weeks):
    assert resolve_run(three_weeks, ExecutionInput(), "e").churn_horizon_weeks == 4
    assert resolve_run(three_weeks, ExecutionInput(churn_horizon_weeks="2"), "e").churn_horizon_weeks == 2


def test_a_run_round_trips_through_json():
    run = Run(run_date=dt.date(2026, 3, 2), churn_horizon_weeks=4, model_version="v", execution_name="e")
    assert run.to_json_dict() == {"run_date": "2026-03-02", "churn_horizon_weeks": 4, "model_version": "v",
                                  "execution_name": "e"}
    assert parse(Run, run.to_json_dict(), "RUN") == run


def test_parse_names_every_bad_field():
    with pytest.raises(EventError) as error:
        parse(Run, {"run_date": "2026-3-2", "churn_horizon_weeks": 0, "model_version": "", "extra": 1}, "RUN")
    message = str(error.value)
    assert message.startswith("RUN: run_date: must be a date YYYY-MM-DD, got '2026-3-2'")
    for expected in ("churn_horizon_weeks: must be a positive integer, got 0", "model_version: String should have",
                     "execution_name: Field required", "extra: Extra inputs are not permitted"):
        assert expected in message
