"""Pareto/NBD (Schmittlein, Morrison and Colombo, Management Science 1987), the continuous-time repeat-purchase
model, on the same weekly activity patterns as BG/BB (bg_bb.py): a customer is active at rate lambda while alive,
and dies at rate mu; lambda ~ Gamma(r, alpha) and mu ~ Gamma(s, beta) across customers, fitted by maximum
likelihood on each customer's (x active weeks after the first, t_x the last one, T weeks since the first), in
weeks. No label is used.

A customer's score is P(no activity in the next `horizon` weeks | x, t_x, T): dead already (1 - P(alive)), or alive
and quiet throughout, which for given lambda and mu is mu/(lambda+mu) + lambda/(lambda+mu) exp(-(lambda+mu) tau)
(it may die before its next activity), averaged over the posterior of an alive customer, Gamma(r + x, alpha + T)
and Gamma(s, beta + T), at quantile nodes. The likelihood and P(alive) follow Fader, Hardie and Lee's note on the
model ("A Note on Deriving the Pareto/NBD Model and Related Expressions", 2005), in logs.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, special

from pipeline.model.repeat_purchase.patterns import Patterns

PATTERN_CHUNK = 64  # patterns integrated at once: the grid of nodes is per pattern
NODES = (np.arange(100) + 0.5) / 100  # quantiles of each posterior Gamma, equally likely


def _log_a0(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> np.ndarray:
    """log A_0 of the note (eq. 19-20), with the Gauss hypergeometric function on the side where it converges."""
    r, alpha, s, beta = params
    low, high, t = (alpha, beta, r + x) if alpha < beta else (beta, alpha, s + 1)
    rsx = r + s + x
    first = special.hyp2f1(rsx, t, rsx + 1, (high - low) / (high + t_x))
    second = special.hyp2f1(rsx, t, rsx + 1, (high - low) / (high + age))
    return (special.logsumexp([np.log(first) + rsx * np.log(high + age), np.log(second) + rsx * np.log(high + t_x)],
                              axis=0, b=[np.ones_like(first), -np.ones_like(first)])
            - rsx * np.log((high + t_x) * (high + age)))


def log_likelihood(params: np.ndarray, patterns: Patterns) -> np.ndarray:
    """log P(x, t_x, T | r, alpha, s, beta) per pattern."""
    r, alpha, s, beta = params
    x, t_x, age = patterns.x, patterns.t_x.astype(float), patterns.n.astype(float)
    head = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    return head + np.logaddexp(-(r + x) * np.log(alpha + age) - s * np.log(beta + age),
                               np.log(s) + _log_a0(params, x, t_x, age) - np.log(r + s + x))


def fit(patterns: Patterns) -> np.ndarray:
    """Maximum-likelihood (r, alpha, s, beta), on log scale so they stay positive."""
    def negative(log_params: np.ndarray) -> float:
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # a step where hyp2f1 overflows
            value = -float((patterns.customers * log_likelihood(np.exp(log_params), patterns)).sum())
        return value if np.isfinite(value) else 1e300
    found = optimize.minimize(negative, np.log([0.5, 5.0, 0.5, 5.0]), method="Nelder-Mead",
                              options={"maxiter": 4000, "xatol": 1e-6, "fatol": 1e-6})
    return np.exp(found.x)


def alive_probability(params: np.ndarray, patterns: Patterns) -> np.ndarray:
    r, alpha, s, beta = params
    x, t_x, age = patterns.x, patterns.t_x.astype(float), patterns.n.astype(float)
    log_odds_dead = (np.log(s) - np.log(r + s + x) + (r + x) * np.log(alpha + age) + s * np.log(beta + age)
                     + _log_a0(params, x, t_x, age))
    return special.expit(-log_odds_dead)


def inactive_probability(params: np.ndarray, patterns: Patterns, horizon_weeks: int) -> np.ndarray:
    """P(no activity in each of the next horizon_weeks | pattern), a chunk of patterns at a time (the nodes are
    100 x 100 per pattern)."""
    r, _, s, _ = params
    # A Gamma's quantiles are its unit-rate quantiles over its rate: inverted once per shape (a count of active
    # weeks) for all the patterns, not once per pattern and node
    shapes, shape_of = np.unique(patterns.x, return_inverse=True)
    unit_rate = special.gammaincinv(r + shapes[None, :], NODES[:, None])[:, shape_of.reshape(-1)]
    unit_death = special.gammaincinv(s, NODES)
    return np.concatenate([_inactive_probability(params, patterns.chunk(start, PATTERN_CHUNK),
                                                 unit_rate[:, start:start + PATTERN_CHUNK], unit_death, horizon_weeks)
                           for start in range(0, len(patterns.x), PATTERN_CHUNK)])


def _inactive_probability(params: np.ndarray, patterns: Patterns, unit_rate: np.ndarray, unit_death: np.ndarray,
                          horizon_weeks: int) -> np.ndarray:
    """The chunk's score, from its unit-rate quantiles of the activity rate (node x pattern) and of the death rate."""
    _, alpha, _, beta = params
    age = patterns.n.astype(float)
    rate = unit_rate[:, None, :] / (alpha + age)
    death = unit_death[None, :, None] / (beta + age)
    total = rate + death
    quiet_if_alive = (death / total + rate / total * np.exp(-total * horizon_weeks)).mean(axis=(0, 1))
    alive = alive_probability(params, patterns)
    return 1 - alive + alive * quiet_if_alive
