"""What a run is about (its week, horizon and model version) and the record of past runs."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass

from pipeline.config import positive_int
from pipeline.errors import DataQualityError, PipelineError
from pipeline.layout import RUNS_PREFIX, run_record_key
from pipeline.services import Services
from pipeline.storage import read_json, write_json
from pipeline.tables import table


@dataclass(frozen=True)
class RunContext:
    run_date: dt.date
    churn_horizon_weeks: int
    model_version: str
    execution_name: str

    def to_dict(self) -> dict:
        return {**asdict(self), "run_date": self.run_date.isoformat()}

    @classmethod
    def from_dict(cls, document: dict) -> "RunContext":
        return cls(run_date=parse_date(document["run_date"], "run_date"),
                   churn_horizon_weeks=int(document["churn_horizon_weeks"]),
                   model_version=document["model_version"], execution_name=document["execution_name"])


def parse_date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise PipelineError(f"{field} must be a date YYYY-MM-DD, got {value!r}") from None


def landed_weeks(services: Services) -> list[dt.date]:
    return [dt.date.fromisoformat(value) for value in services.catalog.partitions(table("snapshots"))]


def resolve_run_date(services: Services, requested: str | None, scheduled_time: str | None) -> dt.date:
    """The logical week: as requested; else the snapshot of the 7 days up to the scheduled time (so a retry or a
    late run keys on the same week, and a week that has not landed fails instead of re-running the one before);
    else the newest snapshot."""
    if requested:
        return parse_date(requested, "run_date")
    weeks = landed_weeks(services)
    if scheduled_time:
        cutoff = parse_date(scheduled_time, "scheduled_time")
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


def resolve_run(services: Services, execution_input: dict, execution_name: str) -> RunContext:
    run_date = resolve_run_date(services, execution_input.get("run_date"), execution_input.get("scheduled_time"))
    requested_horizon = execution_input.get("churn_horizon_weeks", services.settings.churn_horizon_weeks)
    horizon = positive_int(requested_horizon)
    if horizon is None:
        raise PipelineError(f"churn_horizon_weeks must be a positive integer, got {requested_horizon!r}")
    return RunContext(run_date, horizon, model_version_for(run_date, execution_name), execution_name)


def record_run(services: Services, execution_name: str, record: dict) -> None:
    write_json(services.storage, run_record_key(execution_name), record)


def past_runs(services: Services) -> list[dict]:
    # One record per execution at the top level; runs/failures/ holds RecordFailure's own records.
    keys = [key for key in services.storage.list_keys(RUNS_PREFIX) if key.endswith(".json") and key.count("/") == 1]
    return sorted((read_json(services.storage, key) for key in keys), key=lambda run: run.get("started", ""))
