"""Tests of the synthetic panel: reproducibility, the contract, window sums, population rules, exact truth."""
from __future__ import annotations

import datetime
import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pipeline.warehouse.contract import COLUMNS, arrow_schema
from tools.synthetic.generator import (
    NULLABLE_BIGINT_COLUMNS,
    SyntheticSnapshot,
    generate_panel,
    transition_matrices,
    true_churn_probabilities,
    zero_session_probability,
)

CUSTOMERS = 2_000
WEEKS = 14  # enough for a full 90d window inside the panel and 10 weeks with a complete 4-week horizon
SEED = 7
CHURN_HORIZON_WEEKS = 4


@pytest.fixture(scope="module")
def panel() -> list[SyntheticSnapshot]:
    return list(generate_panel(CUSTOMERS, WEEKS, SEED, churn_horizon_weeks=CHURN_HORIZON_WEEKS))


def sessions_by_customer(snapshot: SyntheticSnapshot) -> pd.Series:
    frame = snapshot.customers
    return pd.Series(frame["sessions_7d"].to_numpy(), index=frame["customer_id"].to_numpy())


def churn_labels(panel: list[SyntheticSnapshot], week: int, churn_horizon_weeks: int) -> np.ndarray:
    """The training label: no activity (no sessions, or no row) in each of the next weeks."""
    customer_ids = panel[week].customers["customer_id"]
    active_later = np.zeros(len(customer_ids), dtype=bool)
    for ahead in range(1, churn_horizon_weeks + 1):
        later_sessions = customer_ids.map(sessions_by_customer(panel[week + ahead])).fillna(0).to_numpy()
        active_later |= later_sessions > 0
    return ~active_later


def test_same_seed_gives_identical_frames_and_another_seed_does_not(panel: list[SyntheticSnapshot]) -> None:
    again = list(generate_panel(CUSTOMERS, 3, SEED, churn_horizon_weeks=CHURN_HORIZON_WEEKS))
    other = next(iter(generate_panel(CUSTOMERS, 1, SEED + 1, churn_horizon_weeks=CHURN_HORIZON_WEEKS)))
    for original, repeated in zip(panel, again):
        pd.testing.assert_frame_equal(original.customers, repeated.customers)
        pd.testing.assert_frame_equal(original.truth, repeated.truth)
    assert not panel[0].customers.equals(other.customers)


def test_snapshots_are_weekly_from_the_first_snapshot(panel: list[SyntheticSnapshot]) -> None:
    default_first = panel[0].snapshot_date  # the fixture uses the default
    later_first = datetime.date(2026, 3, 2)
    assert default_first.year == 2026 and default_first.weekday() == 0  # a Monday
    assert [snapshot.snapshot_date for snapshot in panel] == [
        default_first + datetime.timedelta(days=7 * week) for week in range(WEEKS)]
    assert next(iter(generate_panel(10, 1, SEED, first_snapshot=later_first))).snapshot_date == later_first


def test_columns_and_dtypes_follow_the_contract(panel: list[SyntheticSnapshot]) -> None:
    expected_dtypes = {"string": pd.StringDtype(na_value=np.nan), "double": np.dtype("float64"),
                       "boolean": np.dtype("bool"), "date": np.dtype("object")}
    for snapshot in (panel[0], panel[-1]):
        frame = snapshot.customers
        assert list(frame.columns) == [column.name for column in COLUMNS]
        for column in COLUMNS:
            if column.type == "bigint":
                expected = "Int64" if column.name in NULLABLE_BIGINT_COLUMNS else np.dtype("int64")
            else:
                expected = expected_dtypes[column.type]
            assert frame[column.name].dtype == expected, column.name
        assert all(type(day) is datetime.date for day in frame["signup_date"])
        pa.Table.from_pandas(frame, schema=arrow_schema(), preserve_index=False)  # raises if a type does not fit


def test_keys_are_unique_and_values_respect_the_contract_rules(panel: list[SyntheticSnapshot]) -> None:
    for snapshot in panel:
        frame = snapshot.customers
        assert frame["customer_id"].is_unique
        assert frame["customer_id"].str.fullmatch(r"C\d{8}").all()
        for column in COLUMNS:
            if column.required:
                assert frame[column.name].notna().all(), column.name
            if column.non_negative:
                assert (frame[column.name].dropna() >= 0).all(), column.name


def test_population_size_is_constant_and_truth_rows_match(panel: list[SyntheticSnapshot]) -> None:
    for snapshot in panel:
        assert len(snapshot.customers) == CUSTOMERS
        assert snapshot.truth["customer_id"].tolist() == snapshot.customers["customer_id"].tolist()
        assert snapshot.truth["true_churn_probability"].dtype == np.float64


def test_windows_are_sums_of_the_weekly_values(panel: list[SyntheticSnapshot]) -> None:
    weekly_sessions = pd.DataFrame({week: sessions_by_customer(snapshot) for week, snapshot in enumerate(panel)})
    checked = 0
    for week, window_weeks, column in [(3, 4, "sessions_30d"), (9, 4, "sessions_30d"), (13, 4, "sessions_30d"),
                                       (12, 13, "sessions_90d"), (13, 13, "sessions_90d")]:
        frame = panel[week].customers.set_index("customer_id")
        history = weekly_sessions.loc[frame.index, week - window_weeks + 1:week]
        present_throughout = history.notna().all(axis=1)
        expected = history[present_throughout].sum(axis=1).astype(np.int64)
        pd.testing.assert_series_equal(frame.loc[present_throughout, column], expected, check_names=False)
        checked += int(present_throughout.sum())
    assert checked > CUSTOMERS * 4  # most customers persist, so the check covers most rows


def test_windows_nest_and_recency_matches_the_windows(panel: list[SyntheticSnapshot]) -> None:
    frame = panel[-1].customers
    for short, long in [("sessions_7d", "sessions_30d"), ("sessions_30d", "sessions_90d"),
                        ("minutes_7d", "minutes_30d"), ("revenue_30d", "revenue_90d")]:
        assert (frame[short] <= frame[long] + 1e-9).all(), (short, long)
    assert (frame["mobile_sessions_30d"] + frame["desktop_sessions_30d"] == frame["sessions_30d"]).all()
    days_since = frame["days_since_last_session"]
    has_session = days_since.notna().to_numpy()
    assert ((frame["sessions_7d"] > 0).to_numpy() == (days_since <= 6).fillna(False).to_numpy()).all()
    assert ((frame["sessions_90d"] > 0).to_numpy() == (days_since <= 90).fillna(False).to_numpy()).all()
    days_since_signup = (pd.Timestamp(panel[-1].snapshot_date) - pd.to_datetime(frame["signup_date"])).dt.days
    assert (days_since[has_session].astype(np.int64) <= days_since_signup[has_session]).all()
    assert (days_since_signup >= 0).all()


def test_survey_columns_are_mostly_missing(panel: list[SyntheticSnapshot]) -> None:
    frame = panel[0].customers
    for column in ("nps_score", "satisfaction_rating"):
        assert 0.7 < frame[column].isna().mean() < 0.9, column


def test_only_long_inactive_customers_leave_for_good_and_newcomers_are_fresh_signups(
        panel: list[SyntheticSnapshot]) -> None:
    departed: set[str] = set()
    joined = 0
    for before, after in itertools.pairwise(panel):
        before_ids, after_ids = set(before.customers["customer_id"]), set(after.customers["customer_id"])
        leaving = before.customers[[customer not in after_ids for customer in before.customers["customer_id"]]]
        newcomers = after.customers[[customer not in before_ids for customer in after.customers["customer_id"]]]
        # Dropped 13 weeks after the last session (or signup), so a week earlier it was at least 12 weeks ago.
        days_since_signup = (pd.Timestamp(before.snapshot_date) - pd.to_datetime(leaving["signup_date"])).dt.days
        assert (leaving["days_since_last_session"].fillna(days_since_signup) >= 12 * 7).all()
        departed |= set(leaving["customer_id"])
        assert departed.isdisjoint(after_ids)  # a customer who left never comes back
        age_days = (pd.Timestamp(after.snapshot_date) - pd.to_datetime(newcomers["signup_date"])).dt.days
        assert age_days.between(0, 6).all()
        assert len(newcomers) == len(leaving)
        joined += len(newcomers)
    assert joined > 0


def test_true_probability_is_a_probability_and_matches_the_label_rate(panel: list[SyntheticSnapshot]) -> None:
    complete_weeks = range(WEEKS - CHURN_HORIZON_WEEKS)
    labels = np.concatenate([churn_labels(panel, week, CHURN_HORIZON_WEEKS) for week in complete_weeks])
    truth = np.concatenate([panel[week].truth["true_churn_probability"].to_numpy() for week in complete_weeks])
    assert ((truth >= 0) & (truth <= 1)).all()
    assert labels[truth == 1.0].all()  # an absorbed customer never comes back
    # Over seeds the difference has a standard deviation of about 0.003 at this size; a horizon off by one week
    # would move the truth's mean by 0.02 to 0.045.
    assert abs(truth.mean() - labels.mean()) < 0.012
    assert 0.05 < labels.mean() < 0.3


def test_true_probability_equals_a_sum_over_all_state_paths() -> None:
    transitions = transition_matrices()
    inactive = zero_session_probability()
    horizon = 3
    by_formula = true_churn_probabilities(transitions, horizon)
    for segment in (0, len(transitions) - 1):
        for start in range(transitions.shape[1]):
            by_paths = 0.0
            for path in itertools.product(range(transitions.shape[1]), repeat=horizon):
                states = (start, *path)
                by_paths += np.prod([transitions[segment, a, b] * inactive[b] for a, b in itertools.pairwise(states)])
            assert by_formula[segment, start] == pytest.approx(by_paths, rel=1e-12)


def test_the_horizon_changes_only_the_truth(panel: list[SyntheticSnapshot]) -> None:
    shorter = next(iter(generate_panel(CUSTOMERS, 1, SEED, churn_horizon_weeks=2)))
    pd.testing.assert_frame_equal(shorter.customers, panel[0].customers)
    shorter_truth = shorter.truth["true_churn_probability"]
    longer_truth = panel[0].truth["true_churn_probability"]
    assert (shorter_truth >= longer_truth).all() and (shorter_truth > longer_truth).any()


@pytest.mark.parametrize("customers, weeks, horizon", [(0, 1, 4), (10, 0, 4), (10, 1, 0)])
def test_rejects_empty_panels_and_horizons(customers: int, weeks: int, horizon: int) -> None:
    with pytest.raises(ValueError):
        next(iter(generate_panel(customers, weeks, SEED, churn_horizon_weeks=horizon)))
