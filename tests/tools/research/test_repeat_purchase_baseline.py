"""The research tool's repeat-purchase baselines on a landed warehouse: patterns counted from a customer's first
row, and the AUC against the pipeline's label."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import land_weeks, week
from tools.research.repeat_purchase_baseline import activity_pattern, baseline_auc


def test_a_customers_clock_starts_at_their_first_row():
    history = pd.DataFrame({"w0": [True, np.nan, False], "w1": [False, True, False], "w2": [True, False, np.nan],
                            "w3": [False, True, True]}, index=["a", "b", "c"], dtype=object)
    shown = {customer: tuple(int(values[row]) for values in activity_pattern(history))
             for row, customer in enumerate(history.index)}
    # a: active in weeks 0 and 2 of 3 after its first; b: first row in week 1, active again 2 weeks later;
    # c: active once, in the last week (a missing row in between counts as no activity)
    assert shown == {"a": (1, 2, 3), "b": (1, 2, 2), "c": (1, 3, 3)}


def test_it_scores_a_landed_week_against_the_pipelines_label(services):
    land_weeks(services, {
        **{f"loyal-{n}": [1, 2, 1, 3, 1, 2] for n in range(4)},  # active every week, and after
        **{f"faded-{n}": [2, 0, 0, 0, 0, 0] for n in range(4)},  # quiet since their first week, and after
        "late": [None, None, 1, 0, 1, 1],  # no row yet in the week scored: not scored
    })
    result = baseline_auc(services, week(2), churn_horizon_weeks=4)
    assert (result["customers"], result["bg_bb_auc"], result["pareto_nbd_auc"]) == (8, 1.0, 1.0)
    with pytest.raises(SystemExit, match="the 4 weeks after .* are not all landed"):
        baseline_auc(services, week(3), churn_horizon_weeks=4)
