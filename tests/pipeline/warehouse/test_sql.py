"""Label construction in athena_sql/training_set.sql, on a hand-made panel with known answers (H = 2)."""
from pipeline.core.settings import Settings
from pipeline.stages.prepare_data import Window, scoring_set_sql, training_set_sql
from pipeline.warehouse.tables import table
from tests.conftest import in_holdout, keep_landed_features, land_weeks, week

# sessions_7d per weekly snapshot; None = the customer has no row that week.
PANEL = {
    "A": [3, 0, 0, 1, 0, 0, 5],
    "B": [2, 2, 1, None, None, None, None],
    "C": [None, None, 5, 5, 5, 5, 5],
}
HORIZON = 2


def land_and_keep(services, sessions_by_customer) -> None:
    """Land the weeks and keep their feature rows, which the sets' SQL reads (as a run's KeepFeatures would)."""
    land_weeks(services, sessions_by_customer)
    keep_landed_features(services)


EVERY_ROW = Settings(retained_sample_rate=1)  # no sampling: every labelled row is there to check


def labels(services, run_week: int, training_weeks: int = 10, settings=EVERY_ROW) -> dict[tuple[str, int], int]:
    window = Window(week(run_week), HORIZON, training_weeks=training_weeks)
    rows = services.sql.query(training_set_sql(window, settings)).to_pylist()
    return {(row["customer_id"], (row["snapshot_date"] - week(1)).days // 7 + 1): row["churned"] for row in rows}


def test_churned_means_no_activity_in_each_of_the_next_weeks(services):
    land_and_keep(services, PANEL)
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
    land_and_keep(services, PANEL)
    labelled_weeks = {week_number for _, week_number in labels(services, run_week=5)}
    assert labelled_weeks == {1, 2, 3}


def test_features_never_read_weeks_after_the_run(services):
    land_and_keep(services, PANEL)
    query = scoring_set_sql(week(4), shard_count=2)
    rows = {row["customer_id"]: row for row in services.sql.query(query).to_pylist()}
    assert set(rows) == {"A", "C"}
    assert rows["A"]["sessions_7d_prev_1w"] == 0 and rows["A"]["sessions_7d_prev_2w"] == 0
    assert rows["C"]["sessions_7d_prev_1w"] == 5 and rows["C"]["sessions_7d_prev_2w"] == 0  # no row 2 weeks back
    assert sorted(row["shard"] for row in rows.values()) == [0, 1]


def test_previous_week_features_follow_the_calendar_not_the_previous_row(services):
    land_and_keep(services, {"D": [9, None, 0, 3], "E": [1, 1, 1, 1]})
    query = scoring_set_sql(week(3), shard_count=1)
    rows = {row["customer_id"]: row for row in services.sql.query(query).to_pylist()}
    assert rows["D"]["sessions_7d_prev_1w"] == 0  # no row in week 2: no activity, not week 1's 9
    assert rows["D"]["sessions_7d_prev_2w"] == 9
    assert rows["D"]["minutes_7d_prev_1w"] == 0 and rows["E"]["minutes_7d_prev_1w"] is None  # a row, no minutes


def test_the_training_window_holds_the_newest_labelled_weeks_only(services):
    land_and_keep(services, PANEL)
    assert {week_number for _, week_number in labels(services, run_week=7, training_weeks=3)} == {3, 4, 5}


def test_weeks_before_the_window_are_never_read_but_features_still_look_two_weeks_back(services):
    # run week 9, horizon 2, 3 labelled weeks: weeks 5 to 7 are labelled, their features read weeks 3 and 4
    land_and_keep(services, {"early": [4, 4, None, None, None, None, None, None, None],
                          "G": [1, 1, 7, 8, 9, 0, 0, 0, 0]})
    window = Window(week(9), HORIZON, training_weeks=3)
    rows = {(row["customer_id"], row["snapshot_date"]): row
            for row in services.sql.query(training_set_sql(window, EVERY_ROW)).to_pylist()}
    assert {customer for customer, _ in rows} == {"G"}  # not in the holdout, which keeps its newest week only
    assert {date for _, date in rows} == {week(5), week(6), week(7)}
    assert rows[("G", week(5))]["sessions_7d_prev_1w"] == 8 and rows[("G", week(5))]["sessions_7d_prev_2w"] == 7


def sampled_rows(services, settings: Settings) -> list[dict]:
    window = Window(week(6), HORIZON, training_weeks=3)  # labelled weeks 2 to 4; 4 validates
    return services.sql.query(training_set_sql(window, settings)).to_pylist()


def test_retained_customers_are_sampled_outside_the_validation_week_and_weighted_back(services):
    # 600 customers: odd ones churn (no sessions after week 1), even ones stay active
    land_and_keep(services, {f"c{index}": ([1] + [0] * 5 if index % 2 else [1] * 6) for index in range(600)})
    rows = sampled_rows(services, Settings(retained_sample_rate=0.25))
    again = sampled_rows(services, Settings(retained_sample_rate=0.25))
    kept = sorted((row["customer_id"], row["snapshot_date"]) for row in rows)
    assert kept == sorted((row["customer_id"], row["snapshot_date"]) for row in again)  # the same draw every time
    validation = [row for row in rows if row["snapshot_date"] == week(4)]
    assert len(validation) == 600 and {row["sample_weight"] for row in validation} == {1.0}
    older = [row for row in rows if row["snapshot_date"] < week(4)]
    churned = [row for row in older if row["churned"] == 1]
    retained = [row for row in older if row["churned"] == 0]
    fitted_churners = sum(not in_holdout(f"c{index}") for index in range(1, 600, 2))
    assert len(churned) == 2 * fitted_churners and {row["sample_weight"] for row in churned} == {1.0}
    assert {row["sample_weight"] for row in retained} == {4.0}
    assert 0.8 * 600 < sum(row["sample_weight"] for row in retained) < 1.2 * 600  # weighted back to ~all


def test_older_weeks_are_sampled_whole_classes_alike(services):
    land_and_keep(services, {f"c{index}": ([1] + [0] * 5 if index % 2 else [1] * 6) for index in range(600)})
    older = [row for row in sampled_rows(services, Settings(older_weeks_sample_rate=0.5, retained_sample_rate=0.5))
             if row["snapshot_date"] < week(4)]
    weights = {row["churned"]: row["sample_weight"] for row in older}
    assert weights == {1: 2.0, 0: 4.0}
    for churned in (0, 1):
        kept = [row for row in older if row["churned"] == churned]
        assert 0.8 * 600 < len(kept) * weights[churned] < 1.2 * 600


def test_a_customers_shard_is_a_hash_of_its_id_whoever_else_is_scored(services, tmp_path_factory):
    land_and_keep(services, {f"c{index}": [1, 1, 1] for index in range(1000)})
    shards = {row["customer_id"]: row["shard"]
              for row in services.sql.query(scoring_set_sql(week(3), shard_count=4)).to_pylist()}
    counts = [list(shards.values()).count(shard) for shard in range(4)]
    assert min(counts) > 200 and sum(counts) == 1000  # spread evenly, every customer once
    services.catalog.drop_partition(table("snapshots"), week(3).isoformat())
    land_and_keep(services, {"c7": [1, 1, 1], "someone else": [2, 2, 2]})
    again = {row["customer_id"]: row["shard"]
             for row in services.sql.query(scoring_set_sql(week(3), shard_count=4)).to_pylist()}
    assert again["c7"] == shards["c7"]
