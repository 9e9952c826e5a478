"""`ingest-events`: a team's event log in, the contract's weekly snapshots out.

1. Read the log (CSV or Parquet) batch by batch, only the columns the mapping names, and conform each row: its
   kind from its type, its time in UTC and in the mapping's zone (the local day decides its week), its amount and
   length. A bad row (no customer or id, a time that is not one, a type the mapping neither counts nor ignores, a
   negative or unreadable amount) is refused, naming its row, column and rule; a file with any refused row lands
   nothing. Memory holds a batch, whatever the log's size.
2. Land the conformed events as one partition of engagement.events (glue/events.json), then sum them by customer,
   kind and local day as that upload's partition of engagement.event_days (athena_sql/event_days.sql): each event
   once, and none an earlier upload sent. This is the only statement that reads the raw events or deduplicates.
3. Build the weekly snapshots the upload touches (from its first day on: lifetime totals count every earlier
   event), each in SQL as of its cut-off from the days (athena_sql/event_weeks.sql, the same text on DuckDB and
   Athena; up to 13 weeks a statement, UNLOADed by week, streamed), and land each through the usual landing path,
   a batch at a time, so a rebuilt week (a late event) is re-landed and its kept features are computed again.

A week's snapshot holds the customers with an event in the 90 days before its cut-off, or in the mapping's
presence_days when more (counts of 0 then). Columns of kinds the mapping names are counts (0 for no event), with the
lifetime totals of sessions and purchases; those of kinds it does not name stay empty, as the contract allows.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
import tempfile
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pipeline.core.errors import ContractError
from pipeline.execution.identity import landed_weeks
from pipeline.landing.event_mapping import IGNORE, KIND_COLUMNS, PRESENCE_DAYS, EventMapping
from pipeline.landing.ingest import land_snapshot_batches
from pipeline.landing.week_checks import compare_with_previous_week, cycle_weekday, profile
from pipeline.warehouse.contract import arrow_schema
from pipeline.warehouse.layout import WORK_PREFIX
from pipeline.warehouse.objects import (data_keys, data_keys_by_partition, local_copies, parquet_batches,
                                        write_parquet)
from pipeline.warehouse.ports import Services
from pipeline.warehouse.publication import Publication, publish, recorded
from pipeline.warehouse.sql import Composed, render
from pipeline.warehouse.tables import table

logger = logging.getLogger(__name__)
T, R = TypeVar("T"), TypeVar("R")
BATCH_ROWS = 1 << 20
# Weeks one statement of athena_sql/event_weeks.sql builds, reading the days once: at most 13, so that an event
# since the batch's first week is in each later week's 90 days (the statement relies on it).
WEEKS_PER_STATEMENT = 13
# ... and fewer for a large log: a statement makes a row per customer and week, with each kind's windows, in
# aggregations and a join that must fit the engine's memory (DuckDB's MEMORY_LIMIT). Measured at 10M events (492K
# customers a week) on 2 cores: 1.33 s a week at 1.5M customer-weeks a statement, 1.22 at 2.4M, 1.45 at 3.9M and
# 1.67 at 6.2M, where the engine spills.
CUSTOMER_WEEKS_PER_STATEMENT = 2_500_000
WEEK_PARTITION = "snapshot_date"
# engagement.events' columns whose values repeat within a batch; ids, times and amounts barely do, and trying a
# dictionary for them first cost landing time
DICTIONARY_COLUMNS = ["customer_id", "kind", "event_type", "local_date", "local_hour"]
WINDOW_DAYS = {"7d": 7, "30d": 30, "90d": 90}  # the contract's windows, by their column suffix
EXAMPLES = 3
OFFSET = r"(Z|[+-]\d{2}:?\d{2})$"
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?" + OFFSET[:-1] + "?$")


@dataclass
class Refusals:
    """The broken rules of a file: by (column, rule), how many rows and the first few (row, value)."""
    source: str
    found: dict[tuple[str, str], list] = field(default_factory=dict)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, column: str, rule: str, rows: list[int], values: list[object]) -> None:
        if not rows:
            return
        key = (column, rule)
        self.counts[key] = self.counts.get(key, 0) + len(rows)
        examples = self.found.setdefault(key, [])
        examples.extend(list(zip(rows, values))[:EXAMPLES - len(examples)])

    def merge(self, other: "Refusals") -> None:
        for key, examples in other.found.items():
            rows, values = zip(*examples)
            self.add(*key, list(rows), list(values))
            self.counts[key] += other.counts[key] - len(examples)

    def raise_any(self) -> None:
        if not self.counts:
            return
        lines = [f"{self.source}: column '{column}': {rule}: {self.counts[(column, rule)]:,} row(s), e.g. "
                 + ", ".join(f"row {row}: {value!r}" for row, value in examples)
                 for (column, rule), examples in self.found.items()]
        raise ContractError("the event log breaks the mapping's rules; nothing was landed:\n  " + "\n  ".join(lines))


@dataclass
class Landed:
    events: int
    ignored: int
    location: str
    weeks: list[tuple[dt.date, int]]  # each snapshot built: (week, customers)
    notes: list[str]


@contextmanager
def event_log_file(source: str) -> Iterator[Path]:
    """The log as a local file: itself, or an s3:// object downloaded to a temporary one (streamed to disk)."""
    if not source.startswith("s3://"):
        yield Path(source)
        return
    import boto3

    bucket, _, key = source.removeprefix("s3://").partition("/")
    with tempfile.TemporaryDirectory(prefix="event-log-") as scratch:
        path = Path(scratch) / Path(key).name
        boto3.client("s3").download_file(bucket, key, str(path))
        yield path


def ingest_events(services: Services, path: Path, mapping: EventMapping) -> Landed:
    """Land the log and its days, then build and land the weeks it touches."""
    counted, location = land_event_log(services, path, mapping)
    make_days(services)
    weeks, notes = build_weeks(services, mapping, counted.first_day)
    return Landed(counted.events, counted.ignored, location, weeks, notes)


@dataclass
class Counted:
    events: int = 0
    ignored: int = 0
    first_day: dt.date | None = None  # the earliest local day of the events landed

    def add(self, days: pa.Array) -> None:
        if len(days):
            low = pc.min(days).as_py()
            self.first_day = min(filter(None, (self.first_day, low)))
        self.events += len(days)


def land_event_log(services: Services, path: Path, mapping: EventMapping) -> tuple[Counted, str]:
    """Conform the log and land it as one partition of engagement.events; its counts and location."""
    _check_weekday(services, mapping)
    events_table = table("events")
    upload = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="events-") as scratch:
        conformed = Path(scratch) / "part-0.parquet"
        counted = _conform_file(path, mapping, conformed, events_table.arrow_schema())
        folder = events_table.partition_prefix(upload)
        data_key = f"{folder}part-0.parquet"
        services.storage.upload_file(str(conformed), data_key)
    # Recorded, as a landed week is: `doctor --repair` rebuilds a lost catalog's partitions from the records
    publish(services, Publication("events", upload, {"events": folder}, published_by=f"ingest-events {path.name}",
                                  checksums={data_key: services.storage.checksum(data_key)}))
    logger.info("landed %d events of %s as upload %s", counted.events, path, upload)
    return counted, services.storage.uri(folder)


def make_days(services: Services) -> list[str]:
    """Make engagement.event_days' partition of every upload that has none, in the order they landed (each one's
    days leave out the events an earlier upload sent): this upload's, and one an interrupted ingest left, or one
    landed before the table existed. Return the uploads made."""
    events, days = table("events"), table("event_days")
    made = sorted(set(services.catalog.partitions(events)) - set(services.catalog.partitions(days)))
    for upload in made:
        record = recorded(services.storage, "events", upload)
        folder = days.partition_prefix(upload)
        services.storage.delete_prefix(folder)  # what an interrupted attempt wrote: UNLOAD needs an empty folder
        services.sql.unload(render("event_days", upload=upload), folder)
        if not data_keys(services.storage, folder):  # every event was sent before: no day, yet the upload has its days
            write_parquet(services.storage, f"{folder}part-0.parquet", days.arrow_schema().empty_table())
        checksums = {key: services.storage.checksum(key) for key in data_keys(services.storage, folder)}
        publish(services, replace(record, locations=record.locations | {"event_days": folder},
                                  checksums=record.checksums | checksums))
    return made


def _conform_file(path: Path, mapping: EventMapping, out: Path, schema: pa.Schema) -> Counted:
    """Conform every batch into `out`, a batch per core at once (Arrow's kernels leave Python's lock); raise naming
    every broken rule (then `out` is never landed)."""
    refusals, counted = Refusals(str(path)), Counted()

    def conform(numbered: tuple[pa.RecordBatch, int]) -> tuple[pa.Table, int, Refusals]:
        found = Refusals(str(path))
        return (*_conform(numbered[0], mapping, numbered[1], found), found)

    with pq.ParquetWriter(out, schema, use_dictionary=DICTIONARY_COLUMNS) as writer:
        for rows, ignored, found in _in_order(conform, _numbered(_batches(path, mapping)), os.cpu_count() or 1):
            refusals.merge(found)
            counted.ignored += ignored
            if not refusals.counts:
                writer.write_table(rows.select(schema.names).cast(schema))
                counted.add(rows.column("local_date"))
    refusals.raise_any()
    if counted.events == 0:
        raise ContractError(f"{path}: no event to land ({counted.ignored:,} of the types the mapping ignores)")
    return counted


def _numbered(batches: Iterator[pa.RecordBatch]) -> Iterator[tuple[pa.RecordBatch, int]]:
    """Each batch with the number of its first row in the file (from 1)."""
    first_row = 1
    for batch in batches:
        yield batch, first_row
        first_row += batch.num_rows


def _in_order(function: Callable[[T], R], items: Iterator[T], workers: int) -> Iterator[R]:
    """function(item) of each item on `workers` threads, in the items' order; at most two per worker in flight, so
    memory holds that many batches whatever the file's size."""
    with ThreadPoolExecutor(workers) as pool:
        pending: deque[Future] = deque()
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _batches(path: Path, mapping: EventMapping) -> Iterator[pa.RecordBatch]:
    names = [name for name in mapping.columns.model_dump().values() if name]
    try:
        if path.suffix.lower() == ".parquet":
            reader = pq.ParquetFile(path, pre_buffer=False)  # see parquet_batches
            _require_columns(path, names, reader.schema_arrow.names)
            yield from reader.iter_batches(batch_size=BATCH_ROWS, columns=names)
            return
        header = pacsv.open_csv(path).schema.names
        _require_columns(path, names, header)
        stream = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=64 << 20),
                                convert_options=pacsv.ConvertOptions(include_columns=names,
                                                                     column_types={name: pa.string() for name in names},
                                                                     strings_can_be_null=True))
        yield from stream
    except (OSError, pa.ArrowInvalid) as error:
        raise ContractError(f"{path}: cannot be read as an event log (CSV with a header, or Parquet): "
                            f"{str(error).strip()}") from None


def _require_columns(path: Path, names: list[str], found: list[str]) -> None:
    missing = [name for name in names if name not in found]
    if missing:
        raise ContractError(f"{path}: column(s) the mapping names are not in the file: {', '.join(missing)} "
                            f"(found: {', '.join(found)})")


def _conform(batch: pa.RecordBatch, mapping: EventMapping, first_row: int,
             refusals: Refusals) -> tuple[pa.Table, int]:
    """The batch's events in engagement.events' columns (types the mapping ignores left out), and how many were
    ignored; its broken rules go to `refusals`."""
    columns = mapping.columns
    customer = _text(batch.column(columns.customer_id))
    refusals.add(columns.customer_id, "is required", *_where(pc.is_null(customer), first_row, customer))
    event_type = _text(batch.column(columns.event_type))
    kinds = _kinds(event_type, mapping)
    unknown = pc.and_(pc.is_null(kinds), pc.is_valid(event_type))
    refusals.add(columns.event_type, "is not a type the mapping's event_types count or ignore",
                 *_where(pc.or_(unknown, pc.is_null(event_type)), first_row, event_type))
    utc, local = _times(batch.column(columns.event_time), mapping.time_zone, first_row, columns.event_time,
                        refusals)
    amount = _amount(batch, columns.amount, first_row, refusals, "amount")
    minutes = _amount(batch, columns.minutes, first_row, refusals, "minutes")
    event_id = _event_id(batch, columns.event_id, first_row, refusals, customer, utc, event_type, amount)
    rows = pa.table({"customer_id": customer, "event_id": event_id, "kind": kinds, "event_type": event_type,
                     "event_time": utc.cast(pa.timestamp("ms", tz="UTC"), safe=False).cast(pa.timestamp("ms")),
                     "local_date": local.cast(pa.date32()), "local_hour": pc.hour(local).cast(pa.int64()),
                     "amount": amount, "minutes": minutes})
    counted = pc.not_equal(pc.fill_null(kinds, IGNORE), IGNORE)
    return rows.filter(counted), batch.num_rows - pc.sum(counted.cast(pa.int64())).as_py()


def _where(bad: pa.Array, first_row: int, values: pa.Array) -> tuple[list[int], list[object]]:
    """The file's row numbers where `bad` holds (the batch's rows count from `first_row`), and their values."""
    bad = pc.fill_null(bad, False)
    if not pc.any(bad).as_py():
        return [], []
    return pc.add(pc.indices_nonzero(bad), first_row).to_pylist(), values.filter(bad).to_pylist()


def _text(column: pa.Array) -> pa.Array:
    """Text, trimmed; blank is missing."""
    text = pc.utf8_trim_whitespace(column.cast(pa.string()))
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _kinds(event_type: pa.Array, mapping: EventMapping) -> pa.Array:
    kind_of_type = mapping.kind_of_type
    types = pa.array(list(kind_of_type), pa.string())
    return pc.take(pa.array(list(kind_of_type.values()), pa.string()), pc.index_in(event_type, value_set=types))


def _times(column: pa.Array, zone: str, first_row: int, name: str,
           refusals: Refusals) -> tuple[pa.Array, pa.Array]:
    """The times in UTC, and as local wall-clock times in `zone`. A time written with an offset (Z, +01:00) is that
    instant; one without is read in `zone`."""
    if pa.types.is_timestamp(column.type):
        utc = column if column.type.tz else _in_zone(column, zone)
        refusals.add(name, "is required", *_where(pc.is_null(utc), first_row, utc))
    else:
        text = _text(column)
        refusals.add(name, "is required", *_where(pc.is_null(text), first_row, text))
        shaped = pc.fill_null(pc.match_substring_regex(text, ISO_TIME.pattern), True)
        with_offset = pc.fill_null(pc.match_substring_regex(text, OFFSET), False)
        instants, bad_instants = _cast(_only(text, pc.and_(shaped, with_offset)), pa.timestamp("us", tz="UTC"))
        walls, bad_walls = _cast(_only(text, pc.and_(shaped, pc.invert(with_offset))), pa.timestamp("us"))
        utc = pc.coalesce(instants, _in_zone(walls, zone))
        refusals.add(name, "is not a time (ISO 8601: 2026-03-09T08:15:00, with Z or +01:00, or in the mapping's "
                           "time_zone)", *_where(pc.or_(pc.invert(shaped), pc.or_(bad_instants, bad_walls)),
                                                 first_row, text))
    utc = utc.cast(pa.timestamp("us", tz="UTC"))
    return utc, pc.local_timestamp(utc.cast(pa.timestamp("us", tz=zone)))


def _in_zone(walls: pa.Array, zone: str) -> pa.Array:
    """Wall-clock times in `zone` as instants: a time a DST change skips moves forward, a repeated one is the
    first."""
    return pc.assume_timezone(walls, timezone=zone, nonexistent="latest", ambiguous="earliest")


def _only(values: pa.Array, keep: pa.Array) -> pa.Array:
    return pc.if_else(keep, values, pa.scalar(None, values.type))


def _cast(text: pa.Array, to: pa.DataType) -> tuple[pa.Array, pa.Array]:
    """`text` cast, and which values could not be (null then): a 30th of February has the shape of a date."""
    try:
        return text.cast(to), pa.repeat(False, len(text))
    except pa.ArrowInvalid:  # some value is not a real date or time: find which, one by one
        bad = pa.array([value is not None and not _casts(value, to) for value in text.to_pylist()])
        return _only(text, pc.invert(bad)).cast(to), bad


def _casts(value: str, to: pa.DataType) -> bool:
    try:
        pa.array([value]).cast(to)
        return True
    except pa.ArrowInvalid:
        return False


def _amount(batch: pa.RecordBatch, name: str | None, first_row: int, refusals: Refusals,
            what: str) -> pa.Array:
    if name is None:
        return pa.nulls(batch.num_rows, pa.float64())
    column = batch.column(name)
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        text = _text(column)
        number = pc.match_substring_regex(text, r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
        refusals.add(name, f"is not a number (the {what})",
                     *_where(pc.and_(pc.is_valid(text), pc.invert(number)), first_row, text))
        column = pc.if_else(number, text, pa.scalar(None, pa.string()))
    values = column.cast(pa.float64())
    refusals.add(name, f"must be >= 0 (the {what})", *_where(pc.less(values, 0), first_row, values))
    return values


def _event_id(batch: pa.RecordBatch, name: str | None, first_row: int, refusals: Refusals,
              customer: pa.Array, utc: pa.Array, event_type: pa.Array, amount: pa.Array) -> pa.Array:
    if name is not None:
        event_id = _text(batch.column(name))
        refusals.add(name, "is required", *_where(pc.is_null(event_id), first_row, event_id))
        return event_id
    # No id in the log: the event's content is its id, so a row sent twice counts once
    parts = [customer, utc.cast(pa.int64()).cast(pa.string()), event_type, pc.fill_null(amount.cast(pa.string()), "")]
    return pc.binary_join_element_wise(*parts, "|")


def _check_weekday(services: Services, mapping: EventMapping) -> None:
    landed = landed_weeks(services)
    weekday = cycle_weekday(landed)
    if weekday is not None and weekday != mapping.weekday:
        raise ContractError(f"the mapping's snapshot_weekday ({mapping.snapshot_weekday}) is not the weekday of the "
                            f"weeks already landed ({landed[-1]:%A}): set snapshot_weekday to it")


def build_weeks(services: Services, mapping: EventMapping, first_day: dt.date) -> tuple[list, list[str]]:
    """Build and land every week an upload touches: from the first cut-off after its first day (the lifetime
    totals of every later week count its events) to the newest week the log covers whole (its day before the
    cut-off is in the log)."""
    newest_day = services.sql.query("SELECT max(local_date) AS newest FROM engagement.event_days").column(0)[0].as_py()
    first = first_day + dt.timedelta(days=(mapping.weekday - first_day.weekday()) % 7 or 7)
    last = newest_day + dt.timedelta(days=1)
    touched = [first + dt.timedelta(weeks=number) for number in range(max(0, (last - first).days // 7 + 1))]
    weeks, notes, landed = [], [], {}
    for week, rows in week_snapshots(services, mapping, touched):
        checked = profile(rows.batches())
        if checked.rows == 0:  # nobody had an event in its days: the contract has no empty week
            notes.append(f"no customer has an event in the {mapping.presence_days} days before {week}: that week is "
                         "not landed")
            continue
        notes += compare_with_previous_week(services, checked, week, f"events of the week {week}", known=landed)
        land_snapshot_batches(services, rows.batches(), week)
        landed[week.isoformat()] = checked  # the next week compares with it, unread
        weeks.append((week, checked.rows))
    if not weeks:
        notes.append(f"no week is complete yet: the first cut-off after the events, {first}, needs events up to "
                     f"the day before it (the log ends on {newest_day})")
    return weeks, notes


@dataclass
class WeekRows:
    """A week's snapshot as athena_sql/event_weeks.sql wrote it (its files on this disk): read in batches in the
    contract's schema, as often as needed; memory holds one batch."""
    paths: list[str]

    def batches(self) -> Iterator[pa.RecordBatch]:
        schema = arrow_schema()
        for batch in parquet_batches(self.paths):
            filled = set(batch.schema.names)
            yield pa.RecordBatch.from_arrays(
                [batch.column(name).cast(field.type) if name in filled else pa.nulls(batch.num_rows, field.type)
                 for name, field in zip(schema.names, schema)], schema=schema)

    def table(self) -> pa.Table:
        """The whole week, in customer order (the engines write it in none)."""
        return pa.Table.from_batches(list(self.batches()), schema=arrow_schema()).sort_by("customer_id")


class WeekColumns:
    """athena_sql/event_weeks.sql's three lists for a batch of weeks from `first_week`: each contract column the
    mapping fills, as SQL over `w` (a row per customer and week: `windows`) and `h` (a row per customer: `history`),
    and the aggregates of each kind it needs there, named `<kind>_<what>`. Code-composed from the contract's names,
    never from input."""

    def __init__(self, first_week: dt.date):
        self.since = f"local_date >= DATE '{first_week.isoformat()}'"
        self.before = f"local_date < DATE '{first_week.isoformat()}'"
        self.windows: dict[str, str] = {}
        self.history: dict[str, str] = {}

    def _window(self, kind: str, name: str, aggregate: str) -> str:
        self.windows[f"{kind}_{name}"] = aggregate
        return f"w.{kind}_{name}"

    def _history(self, kind: str, name: str, aggregate: str) -> str:
        self.history[f"{kind}_{name}"] = aggregate
        return f"h.{kind}_{name}"

    @staticmethod
    def _of(kind: str, value: str, condition: str = "") -> str:
        return f"CASE WHEN kind = '{kind}'{' AND ' + condition if condition else ''} THEN {value} END"

    def _count(self, kind: str, name: str, condition: str, value: str = "events") -> str:
        """A sum of the kind's `value` over the week's days that meet `condition` (0 for none)."""
        return f"coalesce({self._window(kind, name, f'cast(sum({self._of(kind, value, condition)}) AS bigint)')}, 0)"

    def events(self, kind: str, window: str) -> str:
        return self._count(kind, f"events_{window}", f"age <= {WINDOW_DAYS[window]}")

    def weekend_events(self, kind: str) -> str:
        return self._count(kind, "weekend_30d", "age <= 30 AND day_of_week(local_date) IN (6, 7)")

    def late_night(self, kind: str) -> str:
        return self._count(kind, "late_night_30d", "age <= 30", "late_night")

    def active_days(self, kind: str, window: str) -> str:
        return self._window(kind, f"days_{window}",
                            f"count({self._of(kind, '1', f'age <= {WINDOW_DAYS[window]} AND new_day')})")

    def total(self, kind: str, column: str, window: str) -> str:
        """The sum of the kind's `column` (amount, minutes) in the window (0 for none)."""
        summed = self._of(kind, column, f"age <= {WINDOW_DAYS[window]}")
        return f"coalesce({self._window(kind, f'{column}_{window}', f'round(sum({summed}), 6)')}, 0e0)"

    def _before_and_since(self, kind: str, name: str, aggregate: Callable[[str], str]) -> tuple[str, str]:
        """The kind's `aggregate` (of a condition on the day) over its history before the batch, and over each
        week's days since the batch's first week: summed, they are its lifetime total as of the week."""
        return (self._history(kind, name, aggregate(self.before)),
                self._window(kind, f"new_{name}", aggregate(self.since)))

    def lifetime_events(self, kind: str) -> str:
        before, since = self._before_and_since(
            kind, "events", lambda when: f"cast(sum({self._of(kind, 'events', when)}) AS bigint)")
        return f"coalesce({before}, 0) + coalesce({since}, 0)"

    def lifetime_amount(self, kind: str) -> str:
        before, since = self._before_and_since(kind, "amount", lambda when: f"sum({self._of(kind, 'amount', when)})")
        return f"round(coalesce({before}, 0) + coalesce({since}, 0), 6)"

    def lifetime_days(self, kind: str) -> str:
        before, since = self._before_and_since(
            kind, "days", lambda when: f"count({self._of(kind, '1', when + ' AND new_day')})")
        return f"{before} + {since}"

    def days_since_last(self, kind: str) -> str:
        """Days from the kind's latest day before the week (the week's own, else the history's) to the week."""
        before = self._history(kind, "last_day", f"max({self._of(kind, 'local_date', self.before)})")
        recent = self._window(kind, "last_day", f"max({self._of(kind, 'local_date')})")
        return f"date_diff('day', coalesce({recent}, {before}), w.week)"

    def days_since_first(self, kind: str) -> str:
        """Days from the kind's first day to the week; none if that is not before the week."""
        first = self._history(kind, "first_day", f"min({self._of(kind, 'local_date')})")
        return f"CASE WHEN {first} < w.week THEN date_diff('day', {first}, w.week) END"

    def contract_columns(self, mapping: EventMapping) -> dict[str, str]:
        """The contract's columns an event log fills beside the key and signup_date: the counts of the kinds the
        mapping names (0 for none), with the sessions' active days, hours and recency, the purchases' lifetime and
        recency, minutes and revenue only where it names their column. The others stay empty, as the contract
        allows."""
        columns = {f"{prefix}_{window}": self.events(kind, window)
                   for kind in mapping.kinds for prefix, windows in [KIND_COLUMNS[kind]] for window in windows}
        if "session" in mapping.kinds:
            columns |= {f"active_days_{window}": self.active_days("session", window) for window in ("7d", "30d")}
            columns |= {"weekend_sessions_30d": self.weekend_events("session"),
                        "late_night_sessions_30d": self.late_night("session"),
                        "days_since_last_session": self.days_since_last("session"),
                        "lifetime_active_days": self.lifetime_days("session")}
            if mapping.columns.minutes:
                columns |= {f"minutes_{window}": self.total("session", "minutes", window) for window in WINDOW_DAYS}
                columns["avg_session_minutes_30d"] = (f"{columns['minutes_30d']} / "
                                                      f"CAST(nullif({columns['sessions_30d']}, 0) AS double)")
        if "purchase" in mapping.kinds:
            columns |= {"lifetime_purchases": self.lifetime_events("purchase"),
                        "days_since_first_purchase": self.days_since_first("purchase"),
                        "days_since_last_purchase": self.days_since_last("purchase")}
            if mapping.columns.amount:
                columns |= {f"revenue_{window}": self.total("purchase", "amount", window) for window in WINDOW_DAYS}
                columns["lifetime_revenue"] = self.lifetime_amount("purchase")
        return columns


def event_weeks_sql(mapping: EventMapping, first_week: dt.date, last_week: dt.date,
                    bucket: Composed = Composed("true")) -> str:
    composed = WeekColumns(first_week)
    columns = composed.contract_columns(mapping)

    def listed(named: dict[str, str], indent: str) -> Composed:
        return Composed(f",\n{indent}".join(f"{sql} AS {name}" for name, sql in named.items()))

    return render("event_weeks", first_week=first_week, last_week=last_week, customer_bucket=bucket,
                  presence_days=mapping.presence_days,
                  keeps_silent=Composed("true" if mapping.presence_days > PRESENCE_DAYS else "false"),
                  window_columns=listed(composed.windows, " " * 8), history_columns=listed(composed.history, " " * 8),
                  contract_columns=listed(columns, " " * 4))


def week_snapshot(services: Services, mapping: EventMapping, week: dt.date) -> pa.Table:
    """One week's snapshot in the contract's schema (see week_snapshots)."""
    for _, rows in week_snapshots(services, mapping, [week]):
        return rows.table()  # read before the generator moves on and removes the files


@dataclass(frozen=True)
class StatementPlan:
    """How athena_sql/event_weeks.sql's statements split the weeks: `weeks` a statement, each for all customers, or
    one week a statement for each of `buckets` shares of its customers (a week with more customers than one
    statement holds)."""
    weeks: int
    buckets: int


def statement_plan(services: Services, newest_week: dt.date, presence_days: int) -> StatementPlan:
    """As many weeks a statement as keep its rows within CUSTOMER_WEEKS_PER_STATEMENT, at the customers present in
    the newest week (those of its `presence_days`, estimated: a log's customers only accumulate), from 1 to
    WEEKS_PER_STATEMENT; below one week, as many customer buckets as keep a week's share within it, so a statement's
    memory does not grow with the log."""
    customers = services.sql.query(
        f"SELECT approx_distinct(customer_id) AS n FROM engagement.event_days WHERE local_date < DATE '{newest_week}' "
        f"AND local_date >= DATE '{newest_week - dt.timedelta(days=presence_days)}'").column(0)[0].as_py() or 1
    weeks = max(1, min(WEEKS_PER_STATEMENT, CUSTOMER_WEEKS_PER_STATEMENT // customers))
    return StatementPlan(weeks, 1 if weeks > 1 else -(-customers // CUSTOMER_WEEKS_PER_STATEMENT))


def customer_bucket(bucket: int, buckets: int) -> Composed:
    """The condition on event_days `d` that keeps one bucket's customers: a 64-bit hash of the id (a bucket is built
    on one engine; its mod is negative on Athena, whose hash is signed, hence abs())."""
    if buckets == 1:
        return Composed("true")
    return Composed(f"abs(mod(from_big_endian_64(xxhash64(to_utf8(d.customer_id))), {buckets})) = {bucket}")


def _unload_weeks(services: Services, mapping: EventMapping, weeks: list[dt.date], buckets: int,
                  folder: str) -> dict[str, list[str]]:
    """UNLOAD the weeks, a statement per customer bucket, into `folder`: each week's files, by its date."""
    unloaded: dict[str, list[str]] = {}
    for bucket in range(buckets):
        shard = f"{folder}bucket={bucket}/"
        services.sql.unload(event_weeks_sql(mapping, weeks[0], weeks[-1], customer_bucket(bucket, buckets)), shard,
                            WEEK_PARTITION)
        # a week without a customer has no folder
        found = data_keys_by_partition(services.storage, shard, WEEK_PARTITION) \
            if services.storage.list_keys(shard) else {}
        for week, keys in found.items():
            unloaded.setdefault(week, []).extend(keys)
    return unloaded


def week_snapshots(services: Services, mapping: EventMapping,
                   weeks: list[dt.date]) -> Iterator[tuple[dt.date, WeekRows]]:
    """Each week's snapshot, in order, by statements of athena_sql/event_weeks.sql as statement_plan splits them:
    UNLOADed by week to a work folder, then read a week at a time, in batches. A week's rows are readable until the
    next is asked for."""
    if not weeks:
        return
    plan = statement_plan(services, weeks[-1], mapping.presence_days)
    for start in range(0, len(weeks), plan.weeks):
        batch = weeks[start:start + plan.weeks]
        folder = f"{WORK_PREFIX}event-weeks/{uuid.uuid4().hex}/"
        try:
            unloaded = _unload_weeks(services, mapping, batch, plan.buckets, folder)
            for week in batch:
                with local_copies(services.storage, unloaded.get(week.isoformat(), [])) as paths:
                    yield week, WeekRows(paths)
        finally:
            services.storage.delete_prefix(folder)
