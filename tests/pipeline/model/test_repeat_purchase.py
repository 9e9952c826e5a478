"""The repeat-purchase baselines' input: the holdout customers' weekly activity patterns, as
athena_sql/training_set.sql counts them, are those the research tool counts from the landed weeks; and the count
looks back HISTORY_WEEKS at most."""
import numpy as np
import pandas as pd

from pipeline.execution.identity import Run
from pipeline.model.features import PATTERN_COLUMNS
from pipeline.stages.prepare_data import prepare_data
from pipeline.warehouse.layout import training_prefix
from pipeline.warehouse.objects import data_keys_by_partition, newest_attempt, read_parquet
from tests.conftest import land_weeks, prepare_sets, week
from tools.research.repeat_purchase_baseline import activity_pattern, weekly_activity

WEEKS, HORIZON = 10, 2


def landed_history(services) -> None:
    """300 customers over WEEKS weeks: some start late, some skip weeks (no row), some are quiet in their rows."""
    rng = np.random.default_rng(5)
    history = {}
    for number in range(300):
        start = int(rng.integers(0, WEEKS - HORIZON))
        history[f"c{number}"] = [None if index < start or rng.random() < 0.15 else int(rng.random() < 0.5) * 3
                                 for index in range(WEEKS)]
        history[f"c{number}"][WEEKS - HORIZON - 1] = 1  # a row in the validation week: every customer is judged
    land_weeks(services, history)


def holdout_patterns(services) -> pd.DataFrame:
    run = Run(run_date=week(WEEKS), churn_horizon_weeks=HORIZON, model_version="v", execution_name="e")
    prepare_sets(services, run, prepare_data(services, run))
    parts = data_keys_by_partition(services.storage, newest_attempt(services.storage, training_prefix(run)),
                                   "training_part")
    rows = pd.concat(read_parquet(services.storage, key).to_pandas() for key in parts["holdout"])
    return rows.set_index("customer_id")[list(PATTERN_COLUMNS)].sort_index()


def test_the_holdouts_patterns_are_counted_from_each_customers_first_row(services):
    landed_history(services)
    counted = holdout_patterns(services)
    assert len(counted) >= 15
    activity = weekly_activity(services, week(WEEKS - HORIZON)).loc[counted.index]
    expected = pd.DataFrame(dict(zip(PATTERN_COLUMNS, activity_pattern(activity))), index=counted.index)
    pd.testing.assert_frame_equal(counted, expected, check_dtype=False)
    assert counted["pattern_weeks"].max() == WEEKS - HORIZON - 1


def test_the_patterns_look_back_history_weeks_at_most(services, monkeypatch):
    monkeypatch.setattr("pipeline.stages.prepare_data.HISTORY_WEEKS", 3)
    landed_history(services)
    counted = holdout_patterns(services)
    assert counted["pattern_weeks"].max() == 2
    assert (counted["pattern_last_active_week"] <= counted["pattern_weeks"]).all()
    assert (counted["pattern_active_weeks"] <= counted["pattern_last_active_week"]).all()
