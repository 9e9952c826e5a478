"""Pareto/NBD: its fit recovers the parameters of data simulated from its own story, and its scores match the
simulated outcomes (ranking and level)."""
import numpy as np
from scipy import stats
from sklearn.metrics import roc_auc_score

from pipeline.model.repeat_purchase import pareto_nbd
from pipeline.model.repeat_purchase.patterns import Patterns

TRUE = np.array([0.8, 4.0, 0.6, 12.0])  # r, alpha (activity), s, beta (death)
AGE, HORIZON = 30.0, 4.0


def simulate(customers: int, seed: int) -> tuple[Patterns, np.ndarray]:
    """The model's own story over AGE weeks, and whether each customer is active in the HORIZON weeks after."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(TRUE[0], 1 / TRUE[1], customers)
    death = rng.exponential(1 / rng.gamma(TRUE[2], 1 / TRUE[3], customers))
    x, t_x, later = np.zeros(customers, int), np.zeros(customers), np.zeros(customers, bool)
    for customer in range(customers):
        end = min(death[customer], AGE + HORIZON)
        times = np.sort(rng.uniform(0, end, rng.poisson(rate[customer] * end)))
        x[customer] = (times <= AGE).sum()
        t_x[customer] = times[times <= AGE].max(initial=0.0)
        later[customer] = ((times > AGE) & (times <= AGE + HORIZON)).any()
    return Patterns(x, t_x, np.full(customers, AGE), np.ones(customers, int)), later


def test_the_fit_recovers_the_simulated_parameters_and_scores_the_outcomes():
    patterns, later = simulate(4_000, seed=1)
    params = pareto_nbd.fit(patterns)
    assert np.allclose(params, TRUE, rtol=0.35), params
    inactive = pareto_nbd.inactive_probability(params, patterns, HORIZON)
    assert roc_auc_score(~later, inactive) > 0.8
    assert abs(inactive.mean() - (~later).mean()) < 0.02  # calibrated, not only ranked


def test_a_customer_quiet_for_long_is_less_likely_alive():
    params = TRUE
    recent = Patterns(np.array([5]), np.array([29.0]), np.array([AGE]), np.array([1]))
    quiet = Patterns(np.array([5]), np.array([5.0]), np.array([AGE]), np.array([1]))
    assert pareto_nbd.alive_probability(params, recent)[0] > 0.9 > pareto_nbd.alive_probability(params, quiet)[0]


def test_the_score_averages_the_posteriors_at_their_own_gamma_quantiles():
    """The quantile nodes, inverted once per count of active weeks and scaled by each pattern's rate, are each
    pattern's own Gamma quantiles (scipy.stats), so the score is the posterior average it says it is."""
    params = TRUE
    patterns = Patterns(np.array([0, 3, 3, 12]), np.array([0.0, 9.0, 20.0, 29.0]), np.array([10, 30, 25, 30]),
                        np.ones(4, int))
    r, alpha, s, beta = params
    rate = stats.gamma.ppf(pareto_nbd.NODES[:, None, None], r + patterns.x, scale=1 / (alpha + patterns.n))
    death = stats.gamma.ppf(pareto_nbd.NODES[None, :, None], s, scale=1 / (beta + patterns.n))
    quiet = (death / (rate + death) + rate / (rate + death) * np.exp(-(rate + death) * HORIZON)).mean(axis=(0, 1))
    alive = pareto_nbd.alive_probability(params, patterns)
    assert np.allclose(pareto_nbd.inactive_probability(params, patterns, HORIZON), 1 - alive + alive * quiet,
                       rtol=1e-12, atol=0)
