"""Tests of the BG/BB baseline: its likelihood is a probability law, its fit recovers known parameters, its
scores match simulated outcomes, and patterns are counted from a customer's first row."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

from tests.conftest import land_weeks, week
from tools.research.activity_patterns import Patterns, activity_patterns
from tools.research.repeat_purchase_baseline import (
    baseline_auc,
    fit,
    inactive_probability,
    log_likelihood,
)

TRUE_PARAMS = np.array([1.2, 0.8, 0.6, 9.0])  # alpha, beta (activity), gamma, delta (leaving)
WEEKS_AFTER_FIRST = 7
HORIZON = 4


def every_pattern(n: int) -> Patterns:
    """All (x, t_x) that n weeks after the first can show: none active, or x active with the last at t_x."""
    pairs = [(0, 0)] + [(x, t_x) for t_x in range(1, n + 1) for x in range(1, t_x + 1)]
    x, t_x = (np.array(values) for values in zip(*pairs))
    return Patterns(x, t_x, np.full(len(pairs), n), np.ones(len(pairs), dtype=int))


def simulate(customers: int, weeks: int, seed: int) -> np.ndarray:
    """BG/BB's own story: before each week after the first a customer may leave for good (theta), and while
    still there is active with probability p. Rows are customers, columns weeks (week 0 always active)."""
    rng = np.random.default_rng(seed)
    p = rng.beta(TRUE_PARAMS[0], TRUE_PARAMS[1], customers)[:, None]
    theta = rng.beta(TRUE_PARAMS[2], TRUE_PARAMS[3], customers)[:, None]
    still_there = np.cumprod(rng.random((customers, weeks - 1)) >= theta, axis=1).astype(bool)
    active = still_there & (rng.random((customers, weeks - 1)) < p)
    return np.hstack([np.ones((customers, 1), dtype=bool), active])


def test_the_likelihood_of_every_possible_history_sums_to_one():
    """The likelihood is that of one sequence of weeks; C(t_x - 1, x - 1) sequences share each (x, t_x)."""
    for n in (1, 4, WEEKS_AFTER_FIRST):
        patterns = every_pattern(n)
        sequences = np.where(patterns.x > 0, special.comb(patterns.t_x - 1, patterns.x - 1), 1)
        total = (sequences * np.exp(log_likelihood(TRUE_PARAMS, patterns))).sum()
        assert total == pytest.approx(1.0, abs=1e-9)


@pytest.fixture(scope="module")
def simulated() -> tuple[pd.Series, Patterns, np.ndarray]:
    weeks = simulate(40_000, 1 + WEEKS_AFTER_FIRST + HORIZON, seed=3)
    history = pd.DataFrame(weeks[:, :1 + WEEKS_AFTER_FIRST])
    pattern_of, patterns = activity_patterns(history)
    return pattern_of, patterns, ~weeks[:, 1 + WEEKS_AFTER_FIRST:].any(axis=1)


def test_the_fit_recovers_the_parameters_that_made_the_data(simulated):
    _, patterns, _ = simulated
    found = fit(patterns)
    assert found[0] / (found[0] + found[1]) == pytest.approx(0.6, abs=0.02)  # mean p
    assert found[2] / (found[2] + found[3]) == pytest.approx(0.0625, abs=0.01)  # mean theta


def test_scores_match_what_happened_next(simulated):
    pattern_of, patterns, inactive_next = simulated
    scores = inactive_probability(TRUE_PARAMS, patterns, HORIZON)[pattern_of.to_numpy()]
    for low, high in ((0.0, 0.1), (0.1, 0.4), (0.4, 1.0)):
        chosen = (scores >= low) & (scores < high)
        assert chosen.sum() > 1_000
        assert inactive_next[chosen].mean() == pytest.approx(scores[chosen].mean(), abs=0.015)


def test_a_customers_clock_starts_at_their_first_row():
    history = pd.DataFrame({"w0": [True, np.nan, False], "w1": [False, True, False], "w2": [True, False, np.nan],
                            "w3": [False, True, True]}, index=["a", "b", "c"], dtype=object)
    pattern_of, patterns = activity_patterns(history)
    shown = {customer: (patterns.x[number], patterns.t_x[number], patterns.n[number])
             for customer, number in pattern_of.items()}
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
    assert (result["customers"], result["auc"]) == (8, 1.0)
    with pytest.raises(SystemExit, match="the 4 weeks after .* are not all landed"):
        baseline_auc(services, week(3), churn_horizon_weeks=4)
