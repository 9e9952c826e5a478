"""An execution's work: its prepared sets and every intermediate a later state reads, in a folder of its own
(pipeline.warehouse.layout.work_prefix), with a record of what they were made from.

PrepareData records the inputs: the landing folder of each week of the run's window (a re-ingest lands a new one,
a removed week has none) and the parameters that shape the sets. Training, every Inference shard and Publish
check them against the publication records as they are now before they read the work, so a resume or a redrive
after a re-ingest, a removed or added week refuses, naming what changed, and never publishes from stale work; one
after its own Publish removed the work says the week is published. The parameters are recorded to be read, not
compared: they are baked into the sets' SQL, and on AWS the tasks do not see the Lambdas' settings.

A failed execution's work is kept while it can be resumed or redriven: Step Functions redrives an execution for
14 days after it stopped (the time of its failure record), and `resume` keeps the same window locally.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pipeline.core.errors import DataQualityError, PipelineError
from pipeline.core.settings import Settings
from pipeline.execution.identity import Run
from pipeline.warehouse.layout import (
    execution_of_folder,
    failure_record_key,
    week_work_prefix,
    work_inputs_key,
    work_prefix,
)
from pipeline.warehouse.objects import read_json, write_json
from pipeline.warehouse.ports import Services, Storage
from pipeline.warehouse.publication import recorded, recorded_between

REDRIVE_WINDOW = dt.timedelta(days=14)
SET_SETTINGS = ("training_weeks", "older_weeks_sample_rate", "retained_sample_rate", "rows_per_shard")


class StaleWorkError(DataQualityError):
    """An execution's work was made from inputs that have changed since: continuing would publish stale results."""


class AlreadyPublishedError(PipelineError):
    """An execution continued (a redrive, a resume, a retry of Publish) after it had published its week and removed
    its work: there is nothing left for it to do."""


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def record_inputs(services: Services, run: Run, first_week: dt.date) -> None:
    """What this execution's work is made from (PrepareData, before it names any set)."""
    write_json(services.storage, work_inputs_key(run), {
        "made_at": now_utc().isoformat(timespec="seconds"), "first_week": first_week.isoformat(),
        "landed": _landed(services.storage, first_week, run.run_date),
        "parameters": _parameters(run, services.settings)})


def check_inputs(services: Services, run: Run) -> None:
    """Refuse to go on from work whose inputs changed since it was made, naming each change."""
    try:
        made_from = read_json(services.storage, work_inputs_key(run))
    except FileNotFoundError:
        raise _work_gone(services, run) from None
    first_week = dt.date.fromisoformat(made_from["first_week"])
    changes = _landing_changes(made_from["landed"], _landed(services.storage, first_week, run.run_date))
    if changes:
        raise StaleWorkError(
            f"execution {run.execution_name} cannot go on: its prepared sets were made at {made_from['made_at']} "
            "from inputs that have changed since:\n  " + "\n  ".join(changes) + "\nNothing was published. Start "
            f"a new run of the week (run_date {run.run_date}), which prepares its sets from the data as it is now")


def _work_gone(services: Services, run: Run) -> PipelineError:
    """Why the work is gone: Publish removes it once it published the week (the week's record names it), Cleanup
    and `doctor --repair` once the execution can no longer be resumed."""
    publication = recorded(services.storage, "results", run.run_date.isoformat())
    if publication and publication.published_by == run.execution_name:
        return AlreadyPublishedError(
            f"execution {run.execution_name} already published run_date {run.run_date} (at "
            f"{publication.published_at}), then removed its work: nothing is left to do, its results are the "
            "week's published ones")
    return StaleWorkError(
        f"the work of execution {run.execution_name} (run_date {run.run_date}) is gone from "
        f"{services.storage.uri(work_prefix(run))}: it is removed once the execution can no longer be resumed "
        f"({REDRIVE_WINDOW.days} days), or by `doctor --repair --discard-resumable`. Nothing was published; "
        "start a new run of the week")


def _landed(storage: Storage, first_week: dt.date, run_date: dt.date) -> dict[str, str]:
    """The landing folder of each week of the window, from the publication records: the truth the catalog follows,
    and in storage, which is all the tasks' roles may read."""
    return {record.value: record.locations["snapshots"]
            for record in recorded_between(storage, "snapshots", first_week.isoformat(), run_date.isoformat())}


def _parameters(run: Run, settings: Settings) -> dict:
    return {"churn_horizon_weeks": run.churn_horizon_weeks, **{name: getattr(settings, name) for name in SET_SETTINGS}}


def _landing_changes(before: dict[str, str], now: dict[str, str]) -> list[str]:
    changes = []
    for week in sorted(before.keys() | now.keys()):
        if week not in now:
            changes.append(f"week {week} was removed (it was landed at {before[week]})")
        elif week not in before:
            changes.append(f"week {week} was landed ({now[week]})")
        elif before[week] != now[week]:
            changes.append(f"week {week} was landed again: {before[week]} then, {now[week]} now")
    return changes


@dataclass(frozen=True)
class Work:
    """One folder under a week's work prefix: an execution's work, or a leftover of an older layout."""
    folder: str
    execution_name: str | None
    resumable_until: dt.datetime | None  # None: it cannot be resumed

    def resumable(self, at: dt.datetime) -> bool:
        return self.resumable_until is not None and at < self.resumable_until


@dataclass(frozen=True)
class _Execution:
    run_date: dt.date
    execution_name: str


def works_of_week(storage: Storage, run_date: dt.date) -> list[Work]:
    prefix, children = week_work_prefix(run_date), set()
    for key in storage.list_keys(prefix):
        name, slash, _ = key.removeprefix(prefix).partition("/")
        children.add(f"{prefix}{name}{slash}")
    return [_work(storage, child, run_date) for child in sorted(children)]


def _work(storage: Storage, folder: str, run_date: dt.date) -> Work:
    if not (folder.endswith("/") and (execution_name := execution_of_folder(folder))):
        return Work(folder, None, None)
    execution = _Execution(run_date, execution_name)
    return Work(folder, execution.execution_name, _resumable_until(storage, execution))


def _resumable_until(storage: Storage, execution: _Execution) -> dt.datetime | None:
    """The redrive window from the newest of: when the work was made, when the execution last failed."""
    times = []
    for key, field in ((work_inputs_key(execution), "made_at"),
                       (failure_record_key(execution.execution_name), "recorded_at")):
        try:
            times.append(dt.datetime.fromisoformat(read_json(storage, key)[field]))
        except (FileNotFoundError, KeyError, TypeError, ValueError):
            continue  # not made yet (died before PrepareData recorded it), or never failed
    return max(times) + REDRIVE_WINDOW if times else None
