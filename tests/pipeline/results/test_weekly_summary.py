"""The week's risk by segment: tenure bands, score bins, the shards' totals and the change since the week before."""
import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pytest

from pipeline.core.errors import DataQualityError
from pipeline.execution.identity import Run
from pipeline.results.weekly_summary import (
    ALL,
    OLDEST_TENURE_BAND,
    SCORE_BIN,
    SEGMENT_COLUMNS,
    UNKNOWN,
    SegmentTotals,
    score_bin,
    summary_rows,
    tenure_band,
    write_weekly_summary,
)
from pipeline.warehouse.layout import attempt_prefix
from pipeline.warehouse.objects import read_parquet
from pipeline.warehouse.tables import table
from tests.conftest import write_inference_output

PREVIOUS_WEEK = dt.date(2026, 2, 23)


def test_tenure_bands_start_at_their_lower_bound():
    days = pa.array([0, 90, 91, 364, 365, 729, 730, 5000])
    assert tenure_band(days).to_pylist() == ["under 13w", "under 13w", "13-52w", "13-52w", "1-2y", "1-2y",
                                             OLDEST_TENURE_BAND, OLDEST_TENURE_BAND]


def test_a_missing_tenure_is_the_unknown_band():
    assert tenure_band(pa.array([None, 10, None], pa.int64())).to_pylist() == [UNKNOWN, "under 13w", UNKNOWN]


def test_tenure_bands_of_fractional_days_and_a_chunked_column():
    bands = tenure_band(pa.chunked_array([[90.5, None], [730.0]]))  # 90.5 days: still under 91
    assert bands.type == pa.string() and bands.to_pylist() == ["under 13w", UNKNOWN, OLDEST_TENURE_BAND]


def test_score_bins_are_tenths_with_the_lower_edge_in_and_one_in_the_top_bin():
    probability = np.array([0.0, 0.05, 0.1, 0.3, 0.7, 0.95, 0.999, 1.0])
    assert score_bin(probability).to_pylist() == ["0.0-0.1", "0.0-0.1", "0.1-0.2", "0.3-0.4", "0.7-0.8",
                                                  "0.9-1.0", "0.9-1.0", "0.9-1.0"]


def segments(plan, country, device, tenure) -> dict[str, pa.Array]:
    return {"plan": pa.array(plan), "country": pa.array(country, pa.string()), "device": pa.array(device),
            "tenure_band": pa.array(tenure)}


def week_totals() -> SegmentTotals:
    totals = SegmentTotals()
    totals.add(segments(["free", "free", "pro"], ["DE", None, "DE"], ["ios", "web", "ios"],
                        ["1-2y", "1-2y", UNKNOWN]),
               np.array([0.1, 0.6, 0.25]), np.array([False, True, False]))
    return totals


def test_added_scores_count_customers_risk_and_high_band_per_segment():
    totals = week_totals().totals
    assert totals[(ALL, ALL)] == [3, pytest.approx(0.95), 1]
    assert totals[("plan", "free")] == [2, pytest.approx(0.7), 1] and totals[("plan", "pro")] == [1, 0.25, 0]
    assert totals[("country", UNKNOWN)] == [1, 0.6, 1]  # a missing segment value is counted as unknown
    assert totals[(SCORE_BIN, "0.1-0.2")] == [1, 0.1, 0] and totals[(SCORE_BIN, "0.2-0.3")] == [1, 0.25, 0]
    assert {segment_type for segment_type, _ in totals} == {ALL, SCORE_BIN, *SEGMENT_COLUMNS}
    for segment_type in (SCORE_BIN, *SEGMENT_COLUMNS):  # every segment type adds up to the whole week
        assert sum(total[0] for (kind, _), total in totals.items() if kind == segment_type) == 3


def test_merged_shards_total_what_one_shard_of_all_their_rows_would():
    first, second, whole = SegmentTotals(), SegmentTotals(), SegmentTotals()
    rows = (["free", "pro", "free", "team"], ["DE", "FR", None, "DE"], ["ios", "ios", "web", "web"],
            ["1-2y", "under 13w", "1-2y", "over 2y"])
    probability, high = np.array([0.1, 0.6, 0.3, 0.9]), np.array([False, True, False, True])
    first.add(segments(*(column[:2] for column in rows)), probability[:2], high[:2])
    second.add(segments(*(column[2:] for column in rows)), probability[2:], high[2:])
    whole.add(segments(*rows), probability, high)

    first.merge(second)

    assert first.totals.keys() == whole.totals.keys()
    for key, (customers, risk, high_risk) in whole.totals.items():
        assert first.totals[key] == [customers, pytest.approx(risk), high_risk], key
    assert first.customers == 4


def test_no_scores_count_no_customers():
    assert SegmentTotals().customers == 0


def test_totals_round_trip_through_their_stored_document():
    totals = week_totals()
    document = json.loads(json.dumps(totals.to_document()))  # as a shard writes it and Publish reads it
    assert document == sorted(document)  # a stable order: the same totals write the same file
    assert SegmentTotals.from_document(document) == totals
    assert SegmentTotals.from_document(document).customers == 3


def test_summary_rows_give_each_segments_mean_risk_share_high_and_the_change_since_last_week():
    previous = [{"segment_type": "plan", "segment": "free", "customers": 5, "mean_risk": 0.2, "share_high_risk": 0.0},
                {"segment_type": ALL, "segment": ALL, "customers": 6, "mean_risk": 0.25, "share_high_risk": 0.5},
                {"segment_type": "plan", "segment": "gone", "customers": 1, "mean_risk": 0.5,
                 "share_high_risk": 1.0}]

    rows = {(row["segment_type"], row["segment"]): row for row in summary_rows(week_totals(), previous,
                                                                                PREVIOUS_WEEK)}

    free = rows[("plan", "free")]
    assert (free["customers"], free["customers_change"]) == (2, -3)
    assert free["mean_risk"] == pytest.approx(0.35) and free["mean_risk_change"] == pytest.approx(0.15)
    assert free["share_high_risk"] == 0.5 and free["share_high_risk_change"] == 0.5
    assert rows[(ALL, ALL)]["customers_change"] == -3
    assert rows[(ALL, ALL)]["share_high_risk_change"] == pytest.approx(1 / 3 - 0.5)
    pro = rows[("plan", "pro")]  # not there last week: no change to show
    assert (pro["customers_change"], pro["mean_risk_change"], pro["share_high_risk_change"]) == (None, None, None)
    assert ("plan", "gone") not in rows  # only this week's segments
    assert {row["previous_run_date"] for row in rows.values()} == {PREVIOUS_WEEK}
    assert len(rows) == len(week_totals().totals)


def test_the_first_published_week_has_no_changes():
    rows = summary_rows(week_totals(), [], None)
    assert all(row["previous_run_date"] is None and row["customers_change"] is None
               and row["mean_risk_change"] is None for row in rows)
    assert all(isinstance(row["customers"], int) for row in rows)


RUN = Run(run_date=dt.date(2026, 3, 2), churn_horizon_weeks=4, model_version="v1", execution_name="e1")


def test_the_shards_totals_are_written_as_the_executions_summary(services):
    write_inference_output(services, RUN.run_date, "e1", 3, probability=[0.1, 0.6, 0.2], plans=["free", "free", "pro"])
    write_weekly_summary(services, RUN, scored=3)
    written = read_parquet(services.storage, attempt_prefix("weekly_summary", RUN.run_date, "e1"))
    assert written.schema == table("weekly_summary").arrow_schema()
    rows = {(row["segment_type"], row["segment"]): row for row in written.to_pylist()}
    assert rows[(ALL, ALL)]["customers"] == 3 and rows[("plan", "free")]["mean_risk"] == pytest.approx(0.35)
    assert rows[(ALL, ALL)]["previous_run_date"] is None  # nothing published before it


def test_totals_that_disagree_with_the_predictions_are_refused(services):
    write_inference_output(services, RUN.run_date, "e1", 3)
    with pytest.raises(DataQualityError, match="segment totals count 3 customers .* the predictions 4"):
        write_weekly_summary(services, RUN, scored=4)
    assert services.storage.list_keys(attempt_prefix("weekly_summary", RUN.run_date, "e1")) == []
