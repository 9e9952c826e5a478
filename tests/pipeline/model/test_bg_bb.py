"""BG/BB: its likelihood is a probability law, its fit recovers known parameters, and its scores match simulated
outcomes."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from pipeline.model.repeat_purchase import bg_bb
from pipeline.model.repeat_purchase.bg_bb import fit, inactive_probability, log_likelihood
from pipeline.model.repeat_purchase.patterns import Patterns, patterns_of

TRUE_PARAMS = np.array([1.2, 0.8, 0.6, 9.0])  # alpha, beta (activity), gamma, delta (leaving)
WEEKS_AFTER_FIRST = 7
HORIZON = 4


def every_pattern(n: int) -> Patterns:
    """All (x, t_x) that n weeks after the first can show: none active, or x active with the last at t_x."""
    pairs = [(0, 0)] + [(x, t_x) for t_x in range(1, n + 1) for x in range(1, t_x + 1)]
    x, t_x = (np.array(values) for values in zip(*pairs))
    return Patterns(x, t_x, np.full(len(pairs), n), np.ones(len(pairs), dtype=int))


def simulate(customers: int, weeks: int, seed: int, same_theta: float | None = None) -> np.ndarray:
    """BG/BB's own story: before each week after the first a customer may leave for good (theta; `same_theta`
    for every customer), and while still there is active with probability p. Rows are customers, columns weeks
    (week 0 always active)."""
    rng = np.random.default_rng(seed)
    p = rng.beta(TRUE_PARAMS[0], TRUE_PARAMS[1], customers)[:, None]
    theta = (np.full((customers, 1), same_theta) if same_theta is not None
             else rng.beta(TRUE_PARAMS[2], TRUE_PARAMS[3], customers)[:, None])
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


def observed(weeks: np.ndarray) -> tuple[np.ndarray, Patterns, np.ndarray]:
    """Each customer's pattern over the weeks after the first, the patterns, and who was inactive next."""
    after_first = weeks[:, 1:1 + WEEKS_AFTER_FIRST]
    x = after_first.sum(axis=1)
    t_x = np.where(x > 0, WEEKS_AFTER_FIRST - np.argmax(after_first[:, ::-1], axis=1), 0)
    pattern_of, patterns = patterns_of(x, t_x, np.full(len(x), WEEKS_AFTER_FIRST))
    return pattern_of, patterns, ~weeks[:, 1 + WEEKS_AFTER_FIRST:].any(axis=1)


@pytest.fixture(scope="module")
def simulated() -> tuple[np.ndarray, Patterns, np.ndarray]:
    return observed(simulate(40_000, 1 + WEEKS_AFTER_FIRST + HORIZON, seed=3))


def test_the_fit_recovers_the_parameters_that_made_the_data(simulated):
    _, patterns, _ = simulated
    found = fit(patterns)
    assert found[0] / (found[0] + found[1]) == pytest.approx(0.6, abs=0.02)  # mean p
    assert found[2] / (found[2] + found[3]) == pytest.approx(0.0625, abs=0.01)  # mean theta


def test_patterns_active_in_their_last_week_have_no_week_to_have_left_after():
    """n == t_x for every pattern: the likelihood is being there throughout, with no term for having left."""
    patterns = Patterns(np.array([1, 2]), np.array([3, 3]), np.array([3, 3]), np.array([5, 1]))
    alive = [special.betaln(1.2 + x, 0.8 + 3 - x) - special.betaln(1.2, 0.8)
             + special.betaln(0.6, 9.0 + 3) - special.betaln(0.6, 9.0) for x in (1, 2)]
    assert log_likelihood(TRUE_PARAMS, patterns) == pytest.approx(alive, abs=1e-12)
    assert np.isfinite(inactive_probability(TRUE_PARAMS, patterns, HORIZON)).all()


def test_customers_who_all_leave_alike_are_fitted_without_following_the_flat_ridge(monkeypatch):
    """With no spread in theta the likelihood keeps rising, ever more slowly, as gamma and delta grow together:
    Nelder-Mead took its 4,000 steps here (21,757 evaluations), with bounds or without."""
    _, patterns, _ = observed(simulate(20_000, 1 + WEEKS_AFTER_FIRST + HORIZON, seed=5, same_theta=0.05))
    evaluations = []
    counted = bg_bb.log_likelihood
    monkeypatch.setattr(bg_bb, "log_likelihood", lambda *args: evaluations.append(1) or counted(*args))
    found = bg_bb.fit(patterns)
    assert len(evaluations) < 1_000
    assert found[2] / (found[2] + found[3]) == pytest.approx(0.05, abs=0.01)


def test_scores_match_what_happened_next(simulated):
    pattern_of, patterns, inactive_next = simulated
    scores = inactive_probability(TRUE_PARAMS, patterns, HORIZON)[pattern_of]
    for low, high in ((0.0, 0.1), (0.1, 0.4), (0.4, 1.0)):
        chosen = (scores >= low) & (scores < high)
        assert chosen.sum() > 1_000
        assert inactive_next[chosen].mean() == pytest.approx(scores[chosen].mean(), abs=0.015)
