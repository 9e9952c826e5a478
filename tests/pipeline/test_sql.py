"""Label construction in athena_sql/training_set.sql, on a hand-made panel with known answers (H = 2)."""
from pipeline import sql
from tests.conftest import land_weeks, week

# sessions_7d per weekly snapshot; None = the customer has no row that week.
PANEL = {
    "A": [3, 0, 0, 1, 0, 0, 5],
    "B": [2, 2, 1, None, None, None, None],
    "C": [None, None, 5, 5, 5, 5, 5],
}
HORIZON = 2


def labels(services, run_week: int) -> dict[tuple[str, int], int]:
    query = sql.render("training_set", run_date=week(run_week), churn_horizon_weeks=HORIZON)
    rows = services.sql.query(query).to_pylist()
    return {(row["customer_id"], (row["snapshot_date"] - week(1)).days // 7 + 1): row["churned"] for row in rows}


def test_churned_means_no_activity_in_each_of_the_next_weeks(services):
    land_weeks(services, PANEL)
    assert labels(services, run_week=6) == {
        ("A", 1): 1,  # weeks 2 and 3 have no sessions
        ("A", 2): 0,  # week 4 has a session
        ("A", 3): 0,
        ("A", 4): 1,  # weeks 5 and 6 are zero; week 7 is beyond both the horizon and the run
        ("B", 1): 0,
        ("B", 2): 0,
        ("B", 3): 1,  # no rows in weeks 4 and 5 count as no activity
        ("C", 3): 0,
        ("C", 4): 0,
    }


def test_only_weeks_with_a_complete_horizon_before_the_run_are_labelled(services):
    land_weeks(services, PANEL)
    labelled_weeks = {week_number for _, week_number in labels(services, run_week=5)}
    assert labelled_weeks == {1, 2, 3}


def test_features_never_read_weeks_after_the_run(services):
    land_weeks(services, PANEL)
    query = sql.render("scoring_set", run_date=week(4), churn_horizon_weeks=HORIZON, shard_count=2)
    rows = {row["customer_id"]: row for row in services.sql.query(query).to_pylist()}
    assert set(rows) == {"A", "C"}
    assert rows["A"]["sessions_7d_prev_1w"] == 0 and rows["A"]["sessions_7d_prev_2w"] == 0
    assert rows["C"]["sessions_7d_prev_1w"] == 5 and rows["C"]["sessions_7d_prev_2w"] == 0  # no row 2 weeks back
    assert sorted(row["shard"] for row in rows.values()) == [0, 1]


def test_previous_week_features_follow_the_calendar_not_the_previous_row(services):
    land_weeks(services, {"D": [9, None, 0, 3], "E": [1, 1, 1, 1]})
    query = sql.render("scoring_set", run_date=week(3), churn_horizon_weeks=HORIZON, shard_count=1)
    rows = {row["customer_id"]: row for row in services.sql.query(query).to_pylist()}
    assert rows["D"]["sessions_7d_prev_1w"] == 0  # no row in week 2: no activity, not week 1's 9
    assert rows["D"]["sessions_7d_prev_2w"] == 9
    assert rows["D"]["minutes_7d_prev_1w"] == 0 and rows["E"]["minutes_7d_prev_1w"] is None  # a row, no minutes
