"""The best AUC any model of the snapshots can reach on a synthetic panel, against `bayes_auc`.

    python -m tools.research.observable_ceiling [--customers N] [--weeks W] [--seed S]

`bayes_auc` scores each customer by the true churn probability of their latent state, which no snapshot shows.
This filters the generator's own hidden chain forward over each customer's weekly rows: P(state | the rows so
far) by Bayes' rule with the generator's transition and emission laws, scored as E[true churn probability | the
rows so far]. That is the Bayes-optimal score given the observations it uses, so its AUC is what a perfect model
of those columns would reach. It leaves out a few weak signals (the 30d-only in-session counts, rare events,
what the first snapshot's 30d and 90d windows say of the weeks before it), so the true ceiling is a little
higher; the later weeks, with more history behind them, show how much history adds.
"""
from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from scipy import stats
from sklearn.metrics import roc_auc_score

from tools.synthetic import generator as law
from tools.synthetic.generator import SyntheticSnapshot

LEVELS = slice(1, None)  # the engagement levels: state 0 (churned) has no sessions, so no in-session draws
# In-session counts drawn as Poisson(sessions x rate per session), by state (`law._draw_*_session_activity`).
PER_SESSION_COUNTS = {
    "content_views_7d": law.VIEWS_PER_SESSION,
    "searches_7d": law.SEARCHES_PER_SESSION,
    "social_likes_7d": law.LIKES_PER_SESSION,
    "social_comments_7d": law.COMMENTS_PER_LIKE * law.LIKES_PER_SESSION,
    "social_shares_7d": law.SHARES_PER_LIKE * law.LIKES_PER_SESSION,
    "purchases_7d": law.CART_ADDS_PER_SESSION * law.PURCHASE_PER_CART_ADD,
}
SURVEY_ANSWERS = (  # column, mean by state, spread, rounding step, lowest and highest answer
    ("nps_score", law.NPS_MEAN, law.NPS_SPREAD, 1.0, 0.0, 10.0),
    ("satisfaction_rating", law.SATISFACTION_MEAN, law.SATISFACTION_SPREAD, 0.1, 1.0, 5.0),
)
OPENED_OF_SENT = {"notifications_opened_7d": ("notifications_sent_7d", law.NOTIFICATION_OPEN_RATE),
                  "emails_opened_7d": ("emails_sent_7d", law.EMAIL_OPEN_RATE)}


def filtered_states(snapshots: Iterable[SyntheticSnapshot], churn_horizon_weeks: int) -> Iterator[np.ndarray]:
    """Per snapshot, in its row order: P(latent state | each customer's rows up to that week), (rows, states)."""
    transitions = law.transition_matrices()
    posterior: pd.DataFrame | None = None  # by customer_id, after the latest week
    for snapshot in snapshots:
        frame = snapshot.customers
        segment = segments(frame)
        if posterior is None:  # the first week: the population's mix, by segment
            prior = _state_mix(segment, true_states(snapshot, churn_horizon_weeks))[segment]
        else:
            prior = _predicted_states(posterior, frame, segment, transitions)
        log_posterior = np.log(np.maximum(prior, 1e-300)) + emission_log_likelihood(frame, snapshot.snapshot_date)
        probabilities = np.exp(log_posterior - log_posterior.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        posterior = pd.DataFrame(probabilities, index=frame["customer_id"].to_numpy())
        yield probabilities


def filtered_churn_probabilities(snapshots: list[SyntheticSnapshot],
                                 churn_horizon_weeks: int) -> Iterator[np.ndarray]:
    """Per snapshot: E[true churn probability | each customer's rows up to that week]."""
    truth = law.true_churn_probabilities(law.transition_matrices(), churn_horizon_weeks)
    for snapshot, states in zip(snapshots, filtered_states(snapshots, churn_horizon_weeks)):
        yield (states * truth[segments(snapshot.customers)]).sum(axis=1)


def segments(frame: pd.DataFrame) -> np.ndarray:
    return _codes(frame["plan"], law.PLANS) * len(law.DEVICES) + _codes(frame["device"], law.DEVICES)


def true_states(snapshot: SyntheticSnapshot, churn_horizon_weeks: int) -> np.ndarray:
    """Each row's latent state, read back from its true probability (distinct per state within a segment)."""
    truth = law.true_churn_probabilities(law.transition_matrices(), churn_horizon_weeks)
    by_state = truth[segments(snapshot.customers)]
    return np.abs(by_state - snapshot.truth["true_churn_probability"].to_numpy()[:, None]).argmin(axis=1)


def _predicted_states(posterior: pd.DataFrame, frame: pd.DataFrame, segment: np.ndarray,
                      transitions: np.ndarray) -> np.ndarray:
    """P(this week's state | the rows before it): last week's posterior moved one step; new signups enter with
    their channel's shares (a replaced slot comes back under a new customer_id)."""
    last_week = posterior.reindex(frame["customer_id"].to_numpy()).to_numpy()
    known = ~np.isnan(last_week[:, 0])
    predicted = law.ENTRY_STATE_SHARES_BY_CHANNEL[_codes(frame["acquisition_channel"], law.CHANNELS)]
    predicted[known] = np.einsum("ni,nij->nj", last_week[known], transitions[segment[known]])
    return predicted


def emission_log_likelihood(frame: pd.DataFrame, snapshot_date: dt.date) -> np.ndarray:
    """log P(the week's row | state), shape (rows, states), with what presence itself says."""
    log_likelihood = sum(emission_terms(frame, snapshot_date).values())
    # A churned customer leaves LINGER_WEEKS after the last session (or signup): one still here is not churned.
    days_since_seen = frame["days_since_last_session"].to_numpy(dtype=float, na_value=np.nan)
    days_since_seen = np.where(np.isnan(days_since_seen), _tenure_days(frame, snapshot_date), days_since_seen)
    log_likelihood[days_since_seen >= law.LINGER_WEEKS * law.DAYS_PER_WEEK, law.CHURNED] = -np.inf
    return log_likelihood


def emission_terms(frame: pd.DataFrame, snapshot_date: dt.date) -> dict[str, np.ndarray]:
    """log P(column | state) of each of the generator's draws that depends on the state, shape (rows, states),
    each given what it is drawn from (sessions, messages sent). In-session terms are 0 for a row without
    sessions, and at the churned state (which the session count already rules out for a row with sessions)."""
    sessions = frame["sessions_7d"].to_numpy()
    terms = {"sessions_7d": _session_count(sessions), "messages opened": _messaging(frame),
             "support_tickets_7d": _support_tickets(frame), "survey": _survey(frame)}
    active = sessions > 0
    window_days = np.minimum(law.DAYS_PER_WEEK, _tenure_days(frame, snapshot_date)[active] + 1)[:, None]
    for column, levels in _in_session(frame[active], sessions[active][:, None], window_days).items():
        terms[column] = np.zeros((len(frame), law.STATE_COUNT))
        terms[column][np.ix_(active, np.arange(law.STATE_COUNT)[LEVELS])] = levels
    return terms


def _tenure_days(frame: pd.DataFrame, snapshot_date: dt.date) -> np.ndarray:
    return (pd.Timestamp(snapshot_date) - pd.to_datetime(frame["signup_date"])).dt.days.to_numpy()


def _session_count(sessions: np.ndarray) -> np.ndarray:
    inflation, rate = law.SESSION_ZERO_INFLATION[None, :], law.SESSION_RATE[None, :]
    with np.errstate(divide="ignore"):
        return np.where(sessions[:, None] == 0, np.log(law.zero_session_probability())[None, :],
                        np.log1p(-inflation) + stats.poisson.logpmf(sessions[:, None], rate))


def _in_session(frame: pd.DataFrame, sessions: np.ndarray, window_days: np.ndarray) -> dict[str, np.ndarray]:
    """log P(column | sessions, state) of each in-session draw with a 7d column, for rows with sessions, shape
    (rows, engagement levels)."""
    minutes = np.maximum(frame["minutes_7d"].to_numpy()[:, None], 0.05)  # rounded to 0.1: never 0 in a session
    terms = {"minutes_7d": stats.gamma.logpdf(minutes, a=law.MINUTES_SHAPE * sessions,
                                              scale=law.MINUTES_PER_SESSION[None, LEVELS] / law.MINUTES_SHAPE)}
    for column, per_session in PER_SESSION_COUNTS.items():
        terms[column] = stats.poisson.logpmf(frame[column].to_numpy()[:, None], sessions * per_session[None, LEVELS])
    abandoned = (frame["cart_adds_7d"] - frame["purchases_7d"]).to_numpy()[:, None]
    terms["cart_adds_7d"] = stats.poisson.logpmf(
        abandoned, sessions * (law.CART_ADDS_PER_SESSION * (1 - law.PURCHASE_PER_CART_ADD))[None, LEVELS])
    share = law.FEATURE_SHARE[None, LEVELS]
    features = frame["features_used_7d"].to_numpy()[:, None]  # max(1, Binomial): 1 also when none was drawn
    terms["features_used_7d"] = np.where(features == 1, np.log(stats.binom.cdf(1, law.PRODUCT_FEATURES, share)),
                                         stats.binom.logpmf(features, law.PRODUCT_FEATURES, share))
    # active days = min(sessions, 1 + Binomial(window - 1, spread)): exact below the sessions, at least at them
    days, spread = frame["active_days_7d"].to_numpy()[:, None], law.ACTIVE_DAY_SPREAD[None, LEVELS]
    with np.errstate(divide="ignore"):
        terms["active_days_7d"] = np.where(days < sessions, stats.binom.logpmf(days - 1, window_days - 1, spread),
                                           np.log(stats.binom.sf(days - 2, window_days - 1, spread)))
    return terms


def _messaging(frame: pd.DataFrame) -> np.ndarray:
    total = np.zeros((len(frame), law.STATE_COUNT))
    for opened, (sent, rate) in OPENED_OF_SENT.items():
        with np.errstate(divide="ignore"):
            total += stats.binom.logpmf(frame[opened].to_numpy()[:, None], frame[sent].to_numpy()[:, None],
                                        rate[None, :])
    return total


def _support_tickets(frame: pd.DataFrame) -> np.ndarray:
    rate = law.SUPPORT_TICKET_RATE[None, :]
    with np.errstate(divide="ignore"):
        return np.where(frame["support_tickets_7d"].to_numpy()[:, None] > 0, np.log(rate), np.log1p(-rate))


def _survey(frame: pd.DataFrame) -> np.ndarray:
    """The week's answers, when given: normal draws rounded (NPS to units, rating to tenths) and clipped."""
    total = np.zeros((len(frame), law.STATE_COUNT))
    answered = frame["nps_score"].notna().to_numpy()
    for column, mean, spread, step, low, high in SURVEY_ANSWERS:
        value = frame[column].to_numpy(dtype=float, na_value=np.nan)[answered][:, None]
        upper = np.where(value >= high, np.inf, value + step / 2)
        lower = np.where(value <= low, -np.inf, value - step / 2)
        mass = stats.norm.cdf(upper, mean[None, :], spread) - stats.norm.cdf(lower, mean[None, :], spread)
        total[answered] += np.log(np.maximum(mass, 1e-300))
    return total


def _codes(values: pd.Series, vocabulary: tuple[str, ...]) -> np.ndarray:
    return values.map({value: code for code, value in enumerate(vocabulary)}).to_numpy(dtype=np.int64)


def _state_mix(segment: np.ndarray, state: np.ndarray) -> np.ndarray:
    counts = np.zeros((law.SEGMENT_COUNT, law.STATE_COUNT))
    np.add.at(counts, (segment, state), 1)
    return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)


def churn_labels(snapshots: list[SyntheticSnapshot], week: int, churn_horizon_weeks: int) -> np.ndarray:
    """The pipeline's label of each customer of `week`: no session in each of the next snapshots."""
    active_later = pd.concat([later.customers.loc[later.customers["sessions_7d"] > 0, "customer_id"]
                              for later in snapshots[week + 1:week + 1 + churn_horizon_weeks]])
    return (~snapshots[week].customers["customer_id"].isin(active_later)).to_numpy(dtype=np.int64)


def ceiling_by_week(customers: int, weeks: int, seed: int, churn_horizon_weeks: int = 4) -> list[dict]:
    """Per labelled week: its churn rate, the AUC of the true probabilities and of the filtered ones."""
    snapshots = list(law.generate_panel(customers, weeks, seed, churn_horizon_weeks=churn_horizon_weeks))
    filtered = list(filtered_churn_probabilities(snapshots, churn_horizon_weeks))
    rows = []
    for week in range(weeks - churn_horizon_weeks):
        labels = churn_labels(snapshots, week, churn_horizon_weeks)
        rows.append({"week": snapshots[week].snapshot_date.isoformat(), "churn_rate": float(labels.mean()),
                     "bayes_auc": float(roc_auc_score(labels, snapshots[week].truth["true_churn_probability"])),
                     "observable_auc": float(roc_auc_score(labels, filtered[week]))})
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.research.observable_ceiling",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    table = Table("week", "churn rate", "bayes_auc (true state)", "best from the rows", "gap")
    for row in ceiling_by_week(args.customers, args.weeks, args.seed):
        table.add_row(row["week"], f"{row['churn_rate']:.3f}", f"{row['bayes_auc']:.4f}",
                      f"{row['observable_auc']:.4f}", f"{row['bayes_auc'] - row['observable_auc']:.4f}")
    Console().print(table)


if __name__ == "__main__":
    main()
