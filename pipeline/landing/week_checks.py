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
from dataclasses import dataclass, field
from typing import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.errors import ContractError
from pipeline.warehouse.contract import COLUMNS, KEY_COLUMN
from pipeline.warehouse.objects import data_keys, local_copies, parquet_batches
from pipeline.warehouse.ports import Services
from pipeline.warehouse.tables import table

NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
EXAMPLES = 3
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


@dataclass
class TextProfile:
    """What a text column holds, gathered batch by batch: how many values, whether all are numbers, the first few
    distinct values in order."""
    values: int = 0
    numbers_only: bool = True
    examples: tuple[str, ...] = ()

    def add(self, column: pa.Array) -> None:
        distinct = pc.unique(column.drop_null())
        self.values += len(column) - column.null_count
        numbers = pc.match_substring_regex(distinct, NUMBER.pattern)
        self.numbers_only = self.numbers_only and pc.all(numbers, min_count=0).as_py()
        smallest = distinct.take(pc.array_sort_indices(distinct)[:EXAMPLES]).to_pylist()
        self.examples = tuple(sorted({*self.examples, *smallest})[:EXAMPLES])

    @property
    def kind(self) -> str:
        return "numbers" if self.numbers_only else "text"


@dataclass
class WeekProfile:
    """What the week checks need of a snapshot, gathered batch by batch: memory holds one batch, whatever the
    week's size."""
    rows: int = 0
    nulls: Counter = field(default_factory=Counter)
    texts: dict[str, TextProfile] = field(default_factory=lambda: {name: TextProfile() for name in TEXT_COLUMNS})

    def add(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        self.nulls.update({name: batch.column(name).null_count for name in batch.schema.names})
        for name, text in self.texts.items():
            text.add(batch.column(name))

    def filled(self, name: str) -> float:
        return 1 - self.nulls[name] / self.rows if self.rows else 0.0


def profile(batches: Iterable[pa.RecordBatch]) -> WeekProfile:
    week = WeekProfile()
    for batch in batches:
        week.add(batch)
    return week


def compare_with_previous_week(services: Services, snapshot: WeekProfile, snapshot_date: dt.date, source: str,
                               known: dict[str, WeekProfile] | None = None) -> list[str]:
    """Notes on what changed since the newest week landed before this one; ContractError for a changed kind.
    `known`: profiles of weeks just landed, by week, so that one is not read back."""
    landed = services.catalog.partitions(table("snapshots"))
    earlier = [week for week in landed if week < snapshot_date.isoformat()]
    if not earlier:
        return []
    previous_week = earlier[-1]
    previous = (known or {}).get(previous_week) or _landed_profile(services, landed[previous_week])
    problems = [problem for name in TEXT_COLUMNS
                if (problem := _changed_kind(name, snapshot.texts[name], previous.texts[name], previous_week))]
    if problems:
        raise ContractError(f"{source} does not match the week before:\n  " + "\n  ".join(problems))
    return [f"{source}: column '{name}' was filled for {previous.filled(name):.0%} of customers in week "
            f"{previous_week} and is empty now: is the extract complete?"
            for name in snapshot.nulls
            if previous.filled(name) >= FILLED_BEFORE and snapshot.filled(name) == 0]


def _landed_profile(services: Services, location: str) -> WeekProfile:
    with local_copies(services.storage, data_keys(services.storage, services.storage.key_of(location))) as paths:
        return profile(parquet_batches(paths))


def _changed_kind(name: str, now: TextProfile, before: TextProfile, previous_week: str) -> str | None:
    if min(now.values, before.values) < MIN_VALUES_TO_COMPARE or now.kind == before.kind:
        return None
    return (f"column '{name}': holds {now.kind} (e.g. {_examples(now)}) where week {previous_week} held "
            f"{before.kind} (e.g. {_examples(before)}); was the export changed? Map the values back, or re-ingest "
            "the earlier weeks the new way")


def _examples(text: TextProfile) -> str:
    return ", ".join(repr(value) for value in text.examples)
