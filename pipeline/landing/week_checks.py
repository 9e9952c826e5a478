"""Checks of an ingested week against the weeks landed before it: what validating one file cannot see.

A snapshot date off the landed weeks' weekly cycle (a Wednesday among Mondays) would fail every later run whose
window holds it: refused, naming the on-cycle dates around it, unless forced; `doctor` names one already landed.

A text column whose values turn into numbers (plan exported as 1/2/3 instead of free/basic/premium) passes the
contract, yet every category becomes new to the model: refused. A column filled last week and empty now (half an
extract) is said as a note.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.errors import ContractError
from pipeline.warehouse.contract import COLUMNS, KEY_COLUMN
from pipeline.warehouse.objects import read_parquet
from pipeline.warehouse.ports import Services
from pipeline.warehouse.tables import table

NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
TEXT_COLUMNS = [column.name for column in COLUMNS if column.type == "string" and column.name != KEY_COLUMN]
MIN_VALUES_TO_COMPARE = 20  # fewer rows with a value say little about what a column holds
FILLED_BEFORE = 0.5  # a column filled for at least this share of last week's rows is expected again


def off_cycle(snapshot_date: dt.date, landed: list[dt.date]) -> str | None:
    """Why `snapshot_date` is off the weekly cycle of the other landed weeks, or None if it is on it."""
    return _off(snapshot_date, cycle_weekday([week for week in landed if week != snapshot_date]))


def off_cycle_weeks(landed: list[dt.date]) -> dict[dt.date, str]:
    """The landed weeks off the cycle most of them keep, each with why."""
    weekday = cycle_weekday(landed)
    return {week: problem for week in landed if (problem := _off(week, weekday))}


def _off(snapshot_date: dt.date, weekday: int | None) -> str | None:
    if weekday is None or snapshot_date.weekday() == weekday:
        return None
    before = snapshot_date - dt.timedelta(days=(snapshot_date.weekday() - weekday) % 7)
    return (f"snapshot date {snapshot_date} is a {snapshot_date:%A}, off the landed weeks' cycle: they are "
            f"{calendar.day_name[weekday]}s, 7 days apart; the nearest on-cycle dates are {before} and "
            f"{before + dt.timedelta(days=7)}")


def cycle_weekday(weeks: list[dt.date]) -> int | None:
    """The weekday most landed weeks fall on (on a tie, the oldest week's); None with no week landed."""
    counted = Counter(week.weekday() for week in sorted(weeks)).most_common(1)  # ties: first seen first
    return counted[0][0] if counted else None


def compare_with_previous_week(services: Services, snapshot: pa.Table, snapshot_date: dt.date,
                               source: str) -> list[str]:
    """Notes on what changed since the newest week landed before this one; ContractError for a changed kind."""
    landed = services.catalog.partitions(table("snapshots"))
    earlier = [week for week in landed if week < snapshot_date.isoformat()]
    if not earlier:
        return []
    previous_week = earlier[-1]
    previous = read_parquet(services.storage, services.storage.key_of(landed[previous_week]))
    problems = [problem for name in TEXT_COLUMNS
                if (problem := _changed_kind(name, snapshot.column(name), previous.column(name), previous_week))]
    if problems:
        raise ContractError(f"{source} does not match the week before:\n  " + "\n  ".join(problems))
    return [f"{source}: column '{name}' was filled for {_filled(previous.column(name)):.0%} of customers in week "
            f"{previous_week} and is empty now: is the extract complete?"
            for name in snapshot.column_names
            if _filled(previous.column(name)) >= FILLED_BEFORE and _filled(snapshot.column(name)) == 0]


def _changed_kind(name: str, now: pa.ChunkedArray, before: pa.ChunkedArray, previous_week: str) -> str | None:
    counted = min(len(now) - now.null_count, len(before) - before.null_count)
    now_values, before_values = _distinct(now), _distinct(before)
    if counted < MIN_VALUES_TO_COMPARE or _kind(now_values) == _kind(before_values):
        return None
    return (f"column '{name}': holds {_kind(now_values)} (e.g. {_examples(now_values)}) where week {previous_week} "
            f"held {_kind(before_values)} (e.g. {_examples(before_values)}); was the export changed? Map the "
            "values back, or re-ingest the earlier weeks the new way")


def _distinct(values: pa.ChunkedArray) -> list[str]:
    return pc.unique(values.drop_null()).to_pylist()


def _kind(values: list[str]) -> str:
    return "numbers" if all(NUMBER.fullmatch(value) for value in values) else "text"


def _examples(values: list[str]) -> str:
    return ", ".join(repr(value) for value in sorted(values)[:3])


def _filled(values: pa.ChunkedArray) -> float:
    return 1 - values.null_count / len(values) if len(values) else 0.0
