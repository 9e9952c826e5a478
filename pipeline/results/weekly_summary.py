"""The week's risk by segment (`engagement.weekly_summary`), added up shard by shard.

Each Inference shard adds its scores to SegmentTotals and stores them; Publish merges the shards' totals (small:
one entry per segment value) and compares them with the previous published week, so no task ever reads every
prediction.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.errors import DataQualityError
from pipeline.execution.identity import Run
from pipeline.results.published_weeks import previous_week
from pipeline.warehouse.layout import segment_totals_key, shard_list_key
from pipeline.warehouse.objects import read_json, write_execution_rows
from pipeline.warehouse.ports import Services

SEGMENT_COLUMNS = ("plan", "country", "device", "tenure_band")
SCORE_BIN = "score_bin"  # one more segment type: the week's customers by churn probability, 0.0-0.1 to 0.9-1.0
SCORE_BINS = 10
ALL = "all"
UNKNOWN = "unknown"
# (upper bound in days since signup, band), for analysts to read at a glance
TENURE_BANDS = ((91, "under 13w"), (365, "13-52w"), (730, "1-2y"))
OLDEST_TENURE_BAND = "over 2y"


def tenure_band(tenure_days: pa.Array | pa.ChunkedArray) -> pa.Array:
    days = pc.fill_null(tenure_days.cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False)
    bands = np.select([days < bound for bound, _ in TENURE_BANDS], [band for _, band in TENURE_BANDS],
                      OLDEST_TENURE_BAND).astype(object)
    bands[np.isnan(days)] = UNKNOWN
    return pa.array(bands, pa.string())


def score_bin(probability: np.ndarray) -> pa.Array:
    lower = np.minimum((probability * SCORE_BINS).astype(int), SCORE_BINS - 1)
    return pa.array([f"{index / SCORE_BINS:.1f}-{(index + 1) / SCORE_BINS:.1f}" for index in lower], pa.string())


@dataclass
class SegmentTotals:
    """(segment_type, segment) -> [customers, sum of churn_probability, customers in the high band]."""
    totals: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def add(self, segments: dict[str, pa.Array], probability: np.ndarray, high_risk: np.ndarray) -> None:
        scores = {"probability": probability, "high": high_risk.astype("int64")}
        self._add_group(ALL, pa.table({"segment": pa.array(np.full(len(probability), ALL)), **scores}))
        self._add_group(SCORE_BIN, pa.table({"segment": score_bin(probability), **scores}))
        for segment_type in SEGMENT_COLUMNS:
            values = pc.fill_null(segments[segment_type].cast(pa.string()), UNKNOWN)
            self._add_group(segment_type, pa.table({"segment": values, **scores}))

    def _add_group(self, segment_type: str, rows: pa.Table) -> None:
        grouped = rows.group_by("segment").aggregate([("probability", "count"), ("probability", "sum"),
                                                      ("high", "sum")])
        for segment, customers, risk, high in zip(*(grouped.column(name).to_pylist() for name in (
                "segment", "probability_count", "probability_sum", "high_sum"))):
            self._count((segment_type, segment), (customers, risk, high))

    def merge(self, other: "SegmentTotals") -> None:
        for key, counts in other.totals.items():
            self._count(key, counts)

    def _count(self, key: tuple[str, str], counts) -> None:
        total = self.totals.setdefault(key, [0, 0.0, 0])
        for index, value in enumerate(counts):
            total[index] += value

    @property
    def customers(self) -> int:
        return int(self.totals.get((ALL, ALL), [0])[0])

    def to_document(self) -> list[list]:
        return [[segment_type, segment, *total] for (segment_type, segment), total in sorted(self.totals.items())]

    @classmethod
    def from_document(cls, document: list[list]) -> "SegmentTotals":
        return cls({(segment_type, segment): [customers, risk, high]
                    for segment_type, segment, customers, risk, high in document})


def summary_rows(totals: SegmentTotals, previous: list[dict], previous_run_date: dt.date | None) -> list[dict]:
    """One row per segment, with the change since `previous` (that week's summary rows)."""
    before = {(row["segment_type"], row["segment"]): row for row in previous}
    rows = []
    for (segment_type, segment), (customers, risk, high) in sorted(totals.totals.items()):
        row = {"segment_type": segment_type, "segment": segment, "customers": int(customers),
               "mean_risk": risk / customers, "share_high_risk": high / customers,
               "previous_run_date": previous_run_date}
        earlier = before.get((segment_type, segment))
        row |= {"customers_change": row["customers"] - earlier["customers"] if earlier else None,
                **{f"{name}_change": row[name] - earlier[name] if earlier else None
                   for name in ("mean_risk", "share_high_risk")}}
        rows.append(row)
    return rows


def write_weekly_summary(services: Services, run: Run, scored: int) -> None:
    """Add up the shards' segment totals and compare them with the previous published week's summary."""
    totals = SegmentTotals()
    for shard in read_json(services.storage, shard_list_key(run)):
        totals.merge(SegmentTotals.from_document(read_json(services.storage,
                                                           segment_totals_key(run, shard))))
    if totals.customers != scored:
        raise DataQualityError(f"the shards' segment totals count {totals.customers} customers for run_date "
                               f"{run.run_date}, the predictions {scored}; nothing was published")
    previous_run_date, previous = previous_week(services, "weekly_summary", run.run_date) or (None, [])
    write_execution_rows(services.storage, "weekly_summary", run.run_date, run.execution_name,
                         summary_rows(totals, previous, previous_run_date))
