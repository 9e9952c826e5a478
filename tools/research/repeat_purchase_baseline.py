"""The repeat-purchase model marketers use, on the landed weeks: the AUC a model to beat reaches on your data.

    python -m tools.research.repeat_purchase_baseline --week YYYY-MM-DD [--churn-horizon-weeks 4]

BG/BB (beta-geometric / beta-Bernoulli; Fader, Hardie and Shang, Marketing Science 2010), the discrete-time
form of BG/NBD, built only from each customer's weekly activity (sessions_7d > 0): a customer is active in a
week with probability p, and before each week may leave for good with probability theta; p and theta vary
between customers as Beta distributions whose four parameters are fitted by maximum likelihood on the
activity up to the week (no label is used). Each customer of that week is then scored by P(no activity in
each of the next weeks | their weeks so far), the question of the pipeline's churn label. A customer's clock
starts at their first landed row: weeks before it are not in the warehouse.

Customers with the same (active weeks, last active week, weeks seen) share a score, so the work is done per
pattern (tools/research/activity_patterns.py). Pareto/NBD (tools/research/pareto_nbd.py) is fitted beside it.
"""
from __future__ import annotations

import argparse
import datetime as dt

import numpy as np
import pandas as pd
import pyarrow.compute as pc
from scipy import optimize, special, stats
from sklearn.metrics import roc_auc_score

from pipeline.warehouse.objects import read_parquet
from pipeline.warehouse.ports import Services
from pipeline.warehouse.tables import table
from tools.research import pareto_nbd
from tools.research.activity_patterns import PATTERN_CHUNK, Patterns, activity_patterns

# p and theta are integrated at 400 quantiles each of their fitted Beta laws, equally likely a priori: the nodes
# follow the law wherever its mass is (a fitted theta can be as narrow as 0.0082 +- 0.0001).
QUANTILES = (np.arange(400) + 0.5) / 400


def log_likelihood(params: np.ndarray, patterns: Patterns) -> np.ndarray:
    """log P(x, t_x, n | alpha, beta, gamma, delta) per pattern (Fader, Hardie and Shang 2010, eq. 5)."""
    alpha, beta, gamma, delta = params
    x, t_x, n = patterns.x, patterns.t_x, patterns.n
    alive_throughout = (special.betaln(alpha + x, beta + n - x) - special.betaln(alpha, beta)
                        + special.betaln(gamma, delta + n) - special.betaln(gamma, delta))
    terms = [alive_throughout]
    for i in range(int((n - t_x).max())):  # left after week t_x + i (only where t_x + i < n)
        left = np.where(i < n - t_x,
                        special.betaln(alpha + x, beta + t_x - x + i) - special.betaln(alpha, beta)
                        + special.betaln(gamma + 1, delta + t_x + i) - special.betaln(gamma, delta), -np.inf)
        terms.append(left)
    return special.logsumexp(np.stack(terms), axis=0)


def fit(patterns: Patterns) -> np.ndarray:
    """Maximum-likelihood (alpha, beta, gamma, delta), fitted on log scale so they stay positive."""
    def negative(log_params: np.ndarray) -> float:
        return -float((patterns.customers * log_likelihood(np.exp(log_params), patterns)).sum())
    found = optimize.minimize(negative, np.zeros(4), method="Nelder-Mead",
                              options={"maxiter": 4000, "xatol": 1e-6, "fatol": 1e-6})
    return np.exp(found.x)


def inactive_probability(params: np.ndarray, patterns: Patterns, horizon_weeks: int) -> np.ndarray:
    """P(no activity in each of the next horizon_weeks | pattern), by integrating p and theta over their laws, a
    chunk of patterns at a time (the grid is 400 x 400 per pattern: two years of weeks have thousands)."""
    return np.concatenate([_inactive_probability(params, patterns.chunk(start, PATTERN_CHUNK), horizon_weeks)
                           for start in range(0, len(patterns.x), PATTERN_CHUNK)])


def _inactive_probability(params: np.ndarray, patterns: Patterns, horizon_weeks: int) -> np.ndarray:
    alpha, beta, gamma, delta = params
    p = stats.beta.ppf(QUANTILES, alpha, beta)[:, None, None]
    theta = stats.beta.ppf(QUANTILES, gamma, delta)[None, :, None]
    x, t_x, n = (values[None, None, :] for values in (patterns.x, patterns.t_x, patterns.n))
    stays = (1 - theta) ** n * (1 - p) ** (n - x)
    left = sum(np.where(i < n - t_x, theta * (1 - theta) ** (t_x + i) * (1 - p) ** (t_x - x + i), 0.0)
               for i in range(int((n - t_x).max())))
    stays_weight, left_weight = p ** x * stays, p ** x * left
    # Alive after week n: inactive next if it leaves before a week or is not active in it, for every week.
    quiet_while_alive = sum(((1 - theta) * (1 - p)) ** k * theta for k in range(horizon_weeks)) + \
        ((1 - theta) * (1 - p)) ** horizon_weeks
    numerator = (stays_weight * quiet_while_alive + left_weight).sum(axis=(0, 1))
    return numerator / (stays_weight + left_weight).sum(axis=(0, 1))


def weekly_activity(services: Services, last_week: dt.date) -> pd.DataFrame:
    """customers x landed weeks up to last_week: sessions_7d > 0, NaN where the customer has no row."""
    columns = {}
    for week, location in sorted(services.catalog.partitions(table("snapshots")).items()):
        if dt.date.fromisoformat(week) <= last_week:
            rows = read_parquet(services.storage, services.storage.key_of(location),
                                columns=["customer_id", "sessions_7d"])
            columns[week] = pd.Series(pc.greater(rows.column("sessions_7d"), 0).to_numpy(zero_copy_only=False),
                                      index=rows.column("customer_id").to_numpy(zero_copy_only=False))
    return pd.DataFrame(columns)


def baseline_auc(services: Services, week: dt.date, churn_horizon_weeks: int) -> dict:
    """BG/BB's and Pareto/NBD's AUC on `week` against the churn label, each fitted on the landed weeks up to it."""
    later = weekly_activity(services, week + dt.timedelta(weeks=churn_horizon_weeks))
    history = later.loc[:, :week.isoformat()]
    if later.shape[1] - history.shape[1] < churn_horizon_weeks:
        raise SystemExit(f"the {churn_horizon_weeks} weeks after {week} are not all landed: no label to score")
    customers = history.index[history[week.isoformat()].notna()]
    active_later = later.loc[customers].iloc[:, history.shape[1]:].fillna(False).astype(bool).any(axis=1)
    pattern_of, patterns = activity_patterns(history.loc[customers])
    churned = ~active_later.to_numpy()
    params = fit(patterns)
    scores = inactive_probability(params, patterns, churn_horizon_weeks)[pattern_of.to_numpy()]
    pareto_params = pareto_nbd.fit(patterns)
    pareto_scores = pareto_nbd.inactive_probability(pareto_params, patterns, churn_horizon_weeks)[pattern_of.to_numpy()]
    return {"week": week.isoformat(), "customers": len(customers), "patterns": len(patterns.x),
            "params": dict(zip(("alpha", "beta", "gamma", "delta"), params.round(4).tolist())),
            "auc": float(roc_auc_score(churned, scores)),
            "pareto_nbd_params": dict(zip(("r", "alpha", "s", "beta"), pareto_params.round(4).tolist())),
            "pareto_nbd_auc": float(roc_auc_score(churned, pareto_scores))}


def main(argv: list[str] | None = None) -> None:
    from local_runtime.host import local_services  # the tool reads a local warehouse (PIPELINE_HOME)

    parser = argparse.ArgumentParser(prog="python -m tools.research.repeat_purchase_baseline",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--week", type=dt.date.fromisoformat, required=True, help="the week to score")
    parser.add_argument("--churn-horizon-weeks", type=int, default=4)
    args = parser.parse_args(argv)
    print(baseline_auc(local_services(), args.week, args.churn_horizon_weeks))


if __name__ == "__main__":
    main()
