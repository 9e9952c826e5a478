"""The run's identity: which week, which horizon, which model version, which execution.

Cleanup resolves it once from the execution input; every later Lambda gets it as the `run` object of its event,
every container as the `RUN` environment variable holding the same JSON, and both parse it into `Run` at the door.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Annotated, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from pipeline.core.errors import DataQualityError, EventError
from pipeline.core.settings import positive_int
from pipeline.warehouse.ports import Services
from pipeline.warehouse.tables import table

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: object) -> object:
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise ValueError(f"must be a date YYYY-MM-DD, got {value!r}")
    return value


def _timestamp(value: object) -> object:
    try:
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        raise ValueError(f"must be an ISO 8601 timestamp, got {value!r}") from None


def _time_zone(value: object) -> object:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"must be an IANA time zone such as Europe/Paris, got {value!r}") from None
    return value


def _positive(value: object) -> int:
    number = positive_int(value)
    if number is None:
        raise ValueError(f"must be a positive integer, got {value!r}")
    return number


ModelT = TypeVar("ModelT", bound=BaseModel)
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
Timestamp = Annotated[dt.datetime, BeforeValidator(_timestamp)]
PositiveCount = Annotated[int, BeforeValidator(_positive)]
TimeZone = Annotated[str, BeforeValidator(_time_zone)]
Name = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    """Unknown fields are refused: a misspelt `rundate` must not quietly run the newest week."""
    model_config = ConfigDict(frozen=True, extra="forbid")


class Run(Strict):
    run_date: IsoDate
    churn_horizon_weeks: PositiveCount
    model_version: Name
    execution_name: Name

    def to_json_dict(self) -> dict:
        return self.model_dump(mode="json")


class ExecutionInput(Strict):
    """What an execution is started with: nothing (the newest week), a week, or the schedule's time."""
    Comment: str | None = None  # what the Step Functions console puts in a new execution's input; ignored
    run_date: IsoDate | None = None
    scheduled_time: Timestamp | None = None
    schedule_timezone: TimeZone | None = None  # the schedule's own: its Monday 00:30 is a Sunday in UTC
    churn_horizon_weeks: PositiveCount | None = None

    def scheduled_day(self) -> dt.date:
        """The day of the scheduled time where the schedule runs (UTC unless the schedule names its zone)."""
        zone = ZoneInfo(self.schedule_timezone) if self.schedule_timezone else dt.timezone.utc
        moment = self.scheduled_time.replace(tzinfo=self.scheduled_time.tzinfo or dt.timezone.utc)
        return moment.astimezone(zone).date()


def parse(model: type[ModelT], document: object, where: str) -> ModelT:
    """`document` as `model`, or an EventError naming every bad field."""
    try:
        return model.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, problem['loc'])) or 'event'}: "
                             f"{problem['msg'].removeprefix('Value error, ')}" for problem in error.errors())
        raise EventError(f"{where}: {problems}") from None


def landed_weeks(services: Services) -> list[dt.date]:
    return [dt.date.fromisoformat(value) for value in services.catalog.partitions(table("snapshots"))]


def resolve_run_date(services: Services, execution_input: ExecutionInput) -> dt.date:
    """The logical week: as requested; else the snapshot of the 7 days up to the scheduled time (so a retry or a
    late run keys on the same week, and a week that has not landed fails instead of re-running the one before);
    else the newest snapshot."""
    if execution_input.run_date:
        return execution_input.run_date
    weeks = landed_weeks(services)
    if execution_input.scheduled_time:
        cutoff = execution_input.scheduled_day()
        in_window = [week for week in weeks if cutoff - dt.timedelta(days=6) <= week <= cutoff]
        if not in_window:
            newest = weeks[-1].isoformat() if weeks else "none"
            raise DataQualityError(f"no snapshot landed for the week up to {cutoff} (scheduled run); newest landed "
                                   f"week: {newest}")
        return in_window[-1]
    if not weeks:
        raise DataQualityError("no weekly snapshot has landed yet: run `generate` or `ingest FILE` first")
    return weeks[-1]


def model_version_for(run_date: dt.date, execution_name: str) -> str:
    # Stable for one execution (a redrive reuses it), distinct across executions of the same week.
    digest = hashlib.sha256(execution_name.encode()).hexdigest()[:8]
    return f"{run_date:%Y%m%d}-{digest}"


def resolve_run(services: Services, execution_input: ExecutionInput, execution_name: str) -> Run:
    run_date = resolve_run_date(services, execution_input)
    horizon = execution_input.churn_horizon_weeks or services.settings.churn_horizon_weeks
    return Run(run_date=run_date, churn_horizon_weeks=horizon,
               model_version=model_version_for(run_date, execution_name), execution_name=execution_name)
