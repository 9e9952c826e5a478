"""Tests of the observable ceiling: the forward filter of the generator's chain is exact where the law is
certain, each emission term is the generator's law, and its AUC lies between a plain score's and the true state's."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from tools.research.observable_ceiling import (
    ceiling_by_week,
    churn_labels,
    emission_terms,
    filtered_churn_probabilities,
    filtered_states,
    true_states,
)
from tools.synthetic.generator import CHURNED, SyntheticSnapshot, generate_panel

CUSTOMERS = 5_000
WEEKS = 9
HORIZON = 4


@pytest.fixture(scope="module")
def panel() -> list[SyntheticSnapshot]:
    return list(generate_panel(CUSTOMERS, WEEKS, seed=11, churn_horizon_weeks=HORIZON))


@pytest.fixture(scope="module")
def states(panel) -> list[np.ndarray]:
    return list(filtered_states(panel, HORIZON))


def test_a_customer_who_shows_any_sign_of_life_is_never_churned(panel, states):
    for snapshot, posterior in zip(panel, states):
        rows = snapshot.customers
        signs = (rows["sessions_7d"] > 0) | (rows["notifications_opened_7d"] > 0) | (rows["emails_opened_7d"] > 0)
        assert signs.sum() > CUSTOMERS / 2
        assert posterior[signs.to_numpy(), CHURNED].max() == 0.0
        np.testing.assert_allclose(posterior.sum(axis=1), 1.0)


@pytest.fixture(scope="module")
def one_week() -> SyntheticSnapshot:
    return list(generate_panel(30_000, 1, seed=13, churn_horizon_weeks=1))[0]


def test_each_emission_term_is_the_generators_law(one_week):
    """For draws from state s, a true law's likelihood ratio to a neighbour state averages exactly 1
    (E_s[p_o(x) / p_s(x)] = 1): a 10% error in the minutes, searches or likes per session, or in the active-day
    spread, moves it past the tolerance, and so does a 20% error in an open rate."""
    state = true_states(one_week, 1)
    with_sessions = (one_week.customers["sessions_7d"] > 0).to_numpy()
    for name, log_likelihood in emission_terms(one_week.customers, one_week.snapshot_date).items():
        covered = with_sessions if name != "sessions_7d" else np.ones_like(with_sessions)
        for drawn, neighbour in ((2, 1), (3, 2)):  # a lower level: a bounded ratio, so its mean settles fast
            rows = covered & (state == drawn)
            ratio = np.exp(log_likelihood[rows, neighbour] - log_likelihood[rows, drawn]).mean()
            assert ratio == pytest.approx(1.0, abs=0.05), (name, drawn, neighbour)


def test_more_weeks_seen_put_more_weight_on_the_true_state(panel, states):
    first, last = (float(np.take_along_axis(states[week], true_states(panel[week], HORIZON)[:, None], 1).mean())
                   for week in (0, WEEKS - 1))
    assert last > first + 0.02


def test_its_auc_lies_between_a_plain_score_and_the_true_probabilities(panel):
    scores = list(filtered_churn_probabilities(panel, HORIZON))
    week = WEEKS - HORIZON - 1
    labels = churn_labels(panel, week, HORIZON)
    filtered = roc_auc_score(labels, scores[week])
    plain = roc_auc_score(labels, -panel[week].customers["sessions_30d"])
    oracle = roc_auc_score(labels, panel[week].truth["true_churn_probability"])
    assert plain + 0.02 < filtered < oracle


def test_labels_follow_the_pipeline_rule():
    """No session in each of the next HORIZON snapshots, a missing row counting as none."""
    small = list(generate_panel(300, 6, seed=3, churn_horizon_weeks=2))
    labels = churn_labels(small, 1, 2)
    later = [set(s.customers.loc[s.customers["sessions_7d"] > 0, "customer_id"]) for s in small[2:4]]
    expected = [int(not any(customer in active for active in later)) for customer in small[1].customers["customer_id"]]
    assert labels.tolist() == expected


def test_the_table_has_one_row_per_labelled_week():
    rows = ceiling_by_week(customers=800, weeks=6, seed=5, churn_horizon_weeks=2)
    assert [row["week"] for row in rows] == ["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26"]
    assert all(0.5 < row["observable_auc"] <= row["bayes_auc"] + 0.02 for row in rows)
