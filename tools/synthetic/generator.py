"""Synthetic weekly snapshots whose true churn probability is known exactly.

Every customer carries a latent state that follows a discrete Markov chain: state 0 is "churned" (absorbing,
no activity ever again), states 1..5 are engagement levels (1 = dormant). The weekly transition matrix T
depends on the customer's segment (plan x device). Each week every observable column is drawn from the
current state and the customer's static attributes only, so with D = diag(P(sessions_7d == 0 | state)) the
label "no activity in each of the next H snapshots" has the exact probability [(T D)^H 1]_state.

Population: each snapshot has exactly `customers` rows. An absorbed customer keeps a row (with zero activity)
until LINGER_WEEKS after the last session, then is replaced by a brand-new signup. Only absorbed customers
leave, so a missing row always means "no activity" and the label rule stays exact.

dtypes of `SyntheticSnapshot.customers`, the same every week whatever the values:
    string  -> pandas `str` (pandas 3's default string dtype)
    bigint  -> int64, or nullable Int64 for the columns in NULLABLE_BIGINT_COLUMNS
    double  -> float64 (NaN is null)
    date    -> datetime.date objects (object dtype), which Arrow converts to date32 like the contract
    boolean -> bool
Windowed columns are sums of the customer's weekly values: 7d = this week, 30d = the last 4 weeks, 90d = the
last 13 weeks, all simulated (a state-only warm-up brings the population mix near its steady state, then 12
weeks of activity precede the first snapshot). The one exception is features_used_30d, a count of distinct
features: the expected size of the union of the weekly feature sets. days_since_last_session and
days_since_last_purchase are null when none is on record (a signup without a session yet).
"""
from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.warehouse.contract import COLUMNS, COLUMNS_BY_NAME, LIFETIME_COLUMNS

DAYS_PER_WEEK = 7
RECENT_WEEKS = 4  # the 30d window spans 4 weekly values
HISTORY_WEEKS = 13  # the 90d window spans 13 weekly values
LINGER_WEEKS = 13  # an absorbed customer keeps appearing until 13 weeks after the last session
WARMUP_WEEKS = 52  # state-only weeks before the history, so the population mix starts near its steady state
DEFAULT_FIRST_SNAPSHOT = datetime.date(2026, 1, 5)  # a Monday
NULLABLE_BIGINT_COLUMNS = ("days_since_last_session", "days_since_last_purchase", "nps_score",
                           *(name for name in LIFETIME_COLUMNS if COLUMNS_BY_NAME[name].type == "bigint"))
STRING_DTYPE = pd.StringDtype(na_value=np.nan)  # what pandas 3 calls "str"

PLANS = ("free", "basic", "premium")
PLAN_SHARES = (0.55, 0.30, 0.15)
DEVICES = ("ios", "android", "web")
DEVICE_SHARES = (0.40, 0.40, 0.20)
COUNTRIES = ("US", "GB", "DE", "FR", "BR", "IN", "JP", "CA")
COUNTRY_SHARES = (0.35, 0.12, 0.10, 0.08, 0.10, 0.12, 0.06, 0.07)
CHANNELS = ("organic", "paid_search", "paid_social", "referral", "partner")
CHANNEL_SHARES = (0.40, 0.20, 0.20, 0.12, 0.08)
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55+")
AGE_BAND_SHARES = (0.20, 0.30, 0.22, 0.16, 0.12)
SEGMENT_COUNT = len(PLANS) * len(DEVICES)

# --- The latent chain. Arrays are indexed by state: 0 = churned, 1..5 = engagement level (1 = dormant). ---
CHURNED = 0
STATE_COUNT = 6
CHURN_HAZARD = np.array([0.0, 0.0125, 0.0031, 0.0011, 0.00045, 0.0002])  # highest from the low levels
DRIFT_DOWN = np.array([0.0, 0.0, 0.12, 0.085, 0.06, 0.06])
DRIFT_UP = np.array([0.0, 0.05, 0.07, 0.05, 0.03, 0.0])
PLAN_HAZARD_FACTOR = np.array([1.4, 1.0, 0.6])  # free, basic, premium
PLAN_DRIFT_DOWN_FACTOR = np.array([1.2, 1.0, 0.8])
DEVICE_HAZARD_FACTOR = np.array([0.85, 1.0, 1.25])  # ios, android, web
INITIAL_STATE_SHARES = np.array([0.0, 0.15, 0.20, 0.25, 0.25, 0.15])
ENTRY_STATE_SHARES_BY_CHANNEL = np.array([  # new signups: paid channels bring less engaged customers
    [0.0, 0.15, 0.25, 0.30, 0.20, 0.10],  # organic
    [0.0, 0.25, 0.30, 0.25, 0.15, 0.05],  # paid_search
    [0.0, 0.35, 0.30, 0.20, 0.10, 0.05],  # paid_social
    [0.0, 0.10, 0.20, 0.30, 0.25, 0.15],  # referral
    [0.0, 0.20, 0.30, 0.25, 0.15, 0.10],  # partner
])

# --- Emissions given the state. Sessions are zero-inflated Poisson; most other activity scales with them. ---
SESSION_RATE = np.array([0.0, 0.5, 1.15, 2.9, 7.0, 15.0])
SESSION_ZERO_INFLATION = np.array([1.0, 0.36, 0.0, 0.0, 0.0, 0.0])  # the dormant level mostly stays away
ACTIVE_DAY_SPREAD = np.array([0.0, 0.10, 0.25, 0.45, 0.65, 0.80])  # P(each further day of the week is active)
MINUTES_PER_SESSION = np.array([0.0, 4.0, 7.0, 10.0, 14.0, 18.0])
MINUTES_SHAPE = 2.0  # gamma shape per session: lower = noisier session lengths
VIEWS_PER_SESSION = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
SEARCHES_PER_SESSION = np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
LIKES_PER_SESSION = np.array([0.0, 0.1, 0.3, 0.6, 1.0, 1.5])
COMMENTS_PER_LIKE = 0.3
SHARES_PER_LIKE = 0.15
CART_ADDS_PER_SESSION = np.array([0.0, 0.02, 0.05, 0.08, 0.12, 0.15])
SAVES_PER_SESSION = np.array([0.0, 0.05, 0.10, 0.15, 0.20, 0.25])
FEATURE_SHARE = np.array([0.0, 0.05, 0.10, 0.15, 0.20, 0.25])  # share of the product's features used in a week
NOTIFICATION_OPEN_RATE = np.array([0.0, 0.04, 0.15, 0.30, 0.45, 0.60])
EMAIL_OPEN_RATE = np.array([0.0, 0.05, 0.12, 0.20, 0.28, 0.35])
UNSUBSCRIBE_RATE = np.array([0.0, 0.02, 0.01, 0.005, 0.003, 0.002])
SUPPORT_TICKET_RATE = np.array([0.0, 0.03, 0.02, 0.015, 0.01, 0.01])  # struggling customers write in more
NPS_MEAN = np.array([2.5, 4.7, 5.9, 7.1, 8.3, 9.5])
SATISFACTION_MEAN = np.array([2.0, 2.7, 3.2, 3.7, 4.2, 4.7])
NPS_SPREAD = 1.8  # standard deviation of an answer around its state's mean
SATISFACTION_SPREAD = 0.7
SURVEY_RESPONSE_RATE = 0.2  # nps_score and satisfaction_rating are ~80% null
PRODUCT_FEATURES = 30
PURCHASE_PER_CART_ADD = 0.35
MEAN_ORDER_VALUE_BY_PLAN = np.array([15.0, 25.0, 40.0])
MOBILE_SHARE_BY_DEVICE = np.array([0.9, 0.9, 0.15])
CRASHES_PER_SESSION_BY_DEVICE = np.array([0.02, 0.04, 0.01])
LATE_NIGHT_SHARE_BY_AGE_BAND = np.array([0.15, 0.10, 0.06, 0.04, 0.03])
AUTO_RENEW_SHARE_BY_PLAN = np.array([0.1, 0.7, 0.8])
WEEKLY_NOTIFICATIONS = 6.0  # to customers with push enabled, engaged or not
WEEKLY_EMAILS = 3.0  # to customers who opted in

# Weekly metrics are kept in integer units so every window is an exact sum; the factor converts to the column.
UNIT_SCALE = {"minutes": 10, "revenue": 100}


@dataclass(frozen=True)
class SyntheticSnapshot:
    snapshot_date: datetime.date
    customers: pd.DataFrame  # exactly the contract columns, in contract order (dtypes: see the module doc)
    truth: pd.DataFrame  # customer_id, true_churn_probability: P(churned label = 1 | latent state), same row order


def generate_panel(customers: int, weeks: int, seed: int, *, first_snapshot: datetime.date = DEFAULT_FIRST_SNAPSHOT,
                   churn_horizon_weeks: int = 4) -> Iterator[SyntheticSnapshot]:
    """Yield `weeks` weekly snapshots of `customers` rows each, from `first_snapshot` on, reproducible by seed."""
    if customers < 1 or weeks < 1 or churn_horizon_weeks < 1:
        raise ValueError("customers, weeks and churn_horizon_weeks must all be at least 1")
    transitions = transition_matrices()
    truth_by_segment_state = true_churn_probabilities(transitions, churn_horizon_weeks)
    first_day = _day_number(first_snapshot)
    # The first snapshot's 90d window reaches back HISTORY_WEEKS - 1 weeks; the warm-up comes before that.
    first_week = -WARMUP_WEEKS - (HISTORY_WEEKS - 1)
    simulator = _PanelSimulator(customers, np.random.default_rng(seed), transitions,
                                start_day=first_day + first_week * DAYS_PER_WEEK)
    for week in range(first_week, weeks):
        snapshot_day = first_day + week * DAYS_PER_WEEK
        simulator.advance(snapshot_day, weeks_before_first_snapshot=-week)
        if week >= 0:
            customer_frame = simulator.customer_frame(snapshot_day)
            truth = pd.DataFrame({"customer_id": customer_frame["customer_id"],
                                  "true_churn_probability": simulator.true_probability(truth_by_segment_state)})
            yield SyntheticSnapshot(first_snapshot + datetime.timedelta(weeks=week), customer_frame, truth)


def transition_matrices() -> np.ndarray:
    """Weekly transition matrices, shape (segment, from state, to state); segment = plan * len(DEVICES) + device."""
    matrices = np.zeros((len(PLANS), len(DEVICES), STATE_COUNT, STATE_COUNT))
    matrices[:, :, CHURNED, CHURNED] = 1.0
    for plan in range(len(PLANS)):
        for device in range(len(DEVICES)):
            hazard = CHURN_HAZARD * PLAN_HAZARD_FACTOR[plan] * DEVICE_HAZARD_FACTOR[device]
            drift_down = DRIFT_DOWN * PLAN_DRIFT_DOWN_FACTOR[plan]
            for level in range(1, STATE_COUNT):
                row = matrices[plan, device, level]
                row[CHURNED] += hazard[level]
                row[level - 1] += drift_down[level]  # level 1 has no drift down: its "down" is the hazard
                if level + 1 < STATE_COUNT:
                    row[level + 1] += DRIFT_UP[level]
                row[level] = 1.0 - row.sum()
    return matrices.reshape(SEGMENT_COUNT, STATE_COUNT, STATE_COUNT)


def zero_session_probability() -> np.ndarray:
    """P(sessions_7d == 0 | state) of the zero-inflated Poisson (1 for the churned state)."""
    return SESSION_ZERO_INFLATION + (1.0 - SESSION_ZERO_INFLATION) * np.exp(-SESSION_RATE)


def true_churn_probabilities(transitions: np.ndarray, churn_horizon_weeks: int) -> np.ndarray:
    """P(no activity in each of the next weeks | segment, state) = [(T D)^H 1], shape (segment, state)."""
    step_then_inactive = transitions * zero_session_probability()[None, None, :]  # T D: scales the columns
    probability = np.ones((transitions.shape[0], STATE_COUNT))
    for _ in range(churn_horizon_weeks):
        probability = np.einsum("sij,sj->si", step_then_inactive, probability)
    return probability


class _WeeklyHistory:
    """One metric's last weekly values per slot, with running window totals (O(rows) per week, not O(rows * 13))."""

    def __init__(self, depth: int, size: int) -> None:
        self.values = np.zeros((depth, size), dtype=np.int32)
        self.totals = {weeks: np.zeros(size, dtype=np.int64) for weeks in (RECENT_WEEKS, HISTORY_WEEKS)
                       if weeks <= depth}
        self.weeks_pushed = 0

    def push(self, weekly: np.ndarray) -> None:
        depth = len(self.values)
        for weeks, total in self.totals.items():
            total += weekly
            total -= self.values[(self.weeks_pushed - weeks) % depth]  # that week leaves the window
        self.values[self.weeks_pushed % depth] = weekly
        self.weeks_pushed += 1

    def clear(self, slots: np.ndarray) -> None:
        if self.weeks_pushed == 0:  # still all zeros
            return
        self.values[:, slots] = 0
        for total in self.totals.values():
            total[slots] = 0

    def last(self, weeks: int) -> list[np.ndarray]:
        """The latest `weeks` weekly values, newest first."""
        return [self.values[(self.weeks_pushed - 1 - back) % len(self.values)] for back in range(weeks)]

    def total(self, weeks: int) -> np.ndarray:
        """Sum of the latest `weeks` weekly values, as a new array."""
        return self.last(1)[0].astype(np.int64) if weeks == 1 else self.totals[weeks].copy()


class _PanelSimulator:
    """The mutable population: one slot per row; a replaced customer's slot is reused by the new signup."""

    def __init__(self, size: int, rng: np.random.Generator, transitions: np.ndarray, start_day: int) -> None:
        self.size = size
        self.rng = rng
        # Row (segment * STATE_COUNT + state) -> thresholds on a uniform draw that pick the next state.
        self.transition_thresholds = np.cumsum(transitions, axis=2).reshape(-1, STATE_COUNT)[:, :-1].T.copy()
        self.next_customer_number = 1
        self.customer_number = np.zeros(size, dtype=np.int64)
        self.plan = np.zeros(size, dtype=np.int8)
        self.device = np.zeros(size, dtype=np.int8)
        self.country = np.zeros(size, dtype=np.int8)
        self.channel = np.zeros(size, dtype=np.int8)
        self.age_band = np.zeros(size, dtype=np.int8)
        self.email_opt_in = np.zeros(size, dtype=bool)
        self.push_enabled = np.zeros(size, dtype=bool)
        self.auto_renew = np.zeros(size, dtype=bool)
        self.friends_count = np.zeros(size, dtype=np.int64)
        self.credit_balance = np.zeros(size)
        self.signup_day = np.zeros(size, dtype=np.int64)
        self.signup_date = np.empty(size, dtype=object)
        self.state = np.zeros(size, dtype=np.int8)
        self.last_session_day = np.full(size, _NEVER, dtype=np.int64)
        self.last_purchase_day = np.full(size, _NEVER, dtype=np.int64)
        self.history = {metric: _WeeklyHistory(_history_depth(metric), size) for metric in _METRICS}

        signup_days = start_day - DAYS_PER_WEEK - rng.integers(0, 3 * 365, size)
        self._enrol(np.arange(size), signup_days, np.tile(INITIAL_STATE_SHARES, (len(CHANNELS), 1)))
        # Their sessions before the simulation are unknown; a recent one keeps them from being dropped at once.
        self.last_session_day[:] = start_day - rng.integers(1, DAYS_PER_WEEK + 1, size)

    def _enrol(self, slots: np.ndarray, signup_days: np.ndarray, state_shares_by_channel: np.ndarray) -> None:
        """Fill `slots` with brand-new customers: new ids, fresh attributes and state, empty history."""
        count = len(slots)
        rng = self.rng
        self.customer_number[slots] = np.arange(self.next_customer_number, self.next_customer_number + count)
        self.next_customer_number += count
        self.plan[slots] = rng.choice(len(PLANS), size=count, p=PLAN_SHARES)
        self.device[slots] = rng.choice(len(DEVICES), size=count, p=DEVICE_SHARES)
        self.country[slots] = rng.choice(len(COUNTRIES), size=count, p=COUNTRY_SHARES)
        self.channel[slots] = rng.choice(len(CHANNELS), size=count, p=CHANNEL_SHARES)
        self.age_band[slots] = rng.choice(len(AGE_BANDS), size=count, p=AGE_BAND_SHARES)
        self.email_opt_in[slots] = rng.random(count) < 0.6
        self.push_enabled[slots] = rng.random(count) < np.where(self.device[slots] == DEVICES.index("web"), 0.3, 0.75)
        self.auto_renew[slots] = rng.random(count) < AUTO_RENEW_SHARE_BY_PLAN[self.plan[slots]]
        self.friends_count[slots] = rng.negative_binomial(1, 0.05, count)  # pure noise
        has_credit = rng.random(count) < 0.2
        self.credit_balance[slots] = np.where(has_credit, np.round(rng.exponential(20.0, count), 2), 0.0)  # noise
        self.signup_day[slots] = signup_days
        self.signup_date[slots] = signup_days.astype("datetime64[D]").astype(object)
        self.state[slots] = _draw_categories(state_shares_by_channel[self.channel[slots]], rng)
        self.last_session_day[slots] = _NEVER
        self.last_purchase_day[slots] = _NEVER
        for history in self.history.values():
            history.clear(slots)

    def advance(self, snapshot_day: int, *, weeks_before_first_snapshot: int) -> None:
        """One week: move the states, replace lapsed churners, then draw the activity some snapshot will show."""
        self._move_states()
        self._replace_lapsed(snapshot_day)
        window_days = np.minimum(DAYS_PER_WEEK, snapshot_day - self.signup_day + 1)  # a signup's first week is short
        # A metric's weekly values are only drawn from the week the first snapshot's window of it starts (speed).
        if weeks_before_first_snapshot < HISTORY_WEEKS:
            self._record_week(window_days, snapshot_day, recent_too=weeks_before_first_snapshot < RECENT_WEEKS)
        else:  # warm-up: only whether a session happened matters (for the drop rule), drawn with the same law
            active = np.flatnonzero(self.rng.random(self.size) >= zero_session_probability()[self.state])
            self.last_session_day[active] = snapshot_day - self.rng.integers(0, window_days[active])

    def _segment(self) -> np.ndarray:
        return self.plan.astype(np.int64) * len(DEVICES) + self.device

    def _move_states(self) -> None:
        row = self._segment() * STATE_COUNT + self.state
        draws = self.rng.random(self.size)
        next_state = np.zeros(self.size, dtype=np.int8)
        for thresholds in self.transition_thresholds:
            next_state += draws >= thresholds[row]
        self.state = next_state

    def _replace_lapsed(self, snapshot_day: int) -> None:
        last_seen = np.where(self.last_session_day == _NEVER, self.signup_day, self.last_session_day)
        lapsed = np.flatnonzero((self.state == CHURNED) & (snapshot_day - last_seen >= LINGER_WEEKS * DAYS_PER_WEEK))
        if len(lapsed) > 0:
            signup_days = snapshot_day - self.rng.integers(0, DAYS_PER_WEEK, len(lapsed))
            self._enrol(lapsed, signup_days, ENTRY_STATE_SHARES_BY_CHANNEL)

    def _record_week(self, window_days: np.ndarray, snapshot_day: int, *, recent_too: bool) -> None:
        weekly = _draw_activity(self, window_days, recent_too=recent_too)
        for metric, values in weekly.items():
            self.history[metric].push(values)
        active = np.flatnonzero(weekly["sessions"])
        # The last session falls late enough in the window to leave room for the week's other active days.
        active_days = weekly["active_days"][active] if recent_too else 1
        session_offset = self.rng.integers(0, window_days[active] - active_days + 1)
        self.last_session_day[active] = snapshot_day - session_offset
        bought = weekly["purchases"][active] > 0  # purchases happen in sessions: on or before the last session day
        purchase_offset = self.rng.integers(session_offset[bought], window_days[active][bought])
        self.last_purchase_day[active[bought]] = snapshot_day - purchase_offset

    def customer_frame(self, snapshot_day: int) -> pd.DataFrame:
        values: dict[str, object] = {
            "customer_id": _customer_ids(self.customer_number),
            "signup_date": pd.Series(self.signup_date.copy(), dtype=object),
            "plan": _strings(self.plan, PLANS),
            "country": _strings(self.country, COUNTRIES),
            "device": _strings(self.device, DEVICES),
            "acquisition_channel": _strings(self.channel, CHANNELS),
            "age_band": _strings(self.age_band, AGE_BANDS),
            "email_opt_in": self.email_opt_in.copy(),
            "push_enabled": self.push_enabled.copy(),
            "auto_renew": self.auto_renew.copy(),
            "friends_count": self.friends_count.copy(),
            "credit_balance": self.credit_balance.copy(),
            "days_since_last_session": _days_since(self.last_session_day, snapshot_day),
            "days_since_last_purchase": _days_since(self.last_purchase_day, snapshot_day),
            **self._survey_columns(),
            **self._window_columns(),
            # The panel simulates no history before its first weeks: it has no lifetime totals
            **{name: np.full(self.size, None if name in NULLABLE_BIGINT_COLUMNS else np.nan)
               for name in LIFETIME_COLUMNS},
        }
        sessions_30d = values["sessions_30d"]
        values["avg_session_minutes_30d"] = np.divide(values["minutes_30d"], sessions_30d,
                                                      out=np.full(self.size, np.nan), where=sessions_30d > 0)
        # Every array is fresh, so the frame may keep them as they are (consolidating a million rows is slow).
        return pd.DataFrame({column.name: _as_contract_dtype(column.name, values[column.name]) for column in COLUMNS},
                            copy=False)

    def _survey_columns(self) -> dict[str, np.ndarray]:
        """This week's survey answers; most customers did not answer, which is a null."""
        responded = self.rng.random(self.size) < SURVEY_RESPONSE_RATE
        nps = np.clip(np.round(self.rng.normal(NPS_MEAN[self.state], NPS_SPREAD)), 0, 10)
        satisfaction = np.clip(np.round(self.rng.normal(SATISFACTION_MEAN[self.state], SATISFACTION_SPREAD), 1),
                               1.0, 5.0)
        return {"nps_score": np.where(responded, nps, np.nan),
                "satisfaction_rating": np.where(responded, satisfaction, np.nan)}

    def _window_columns(self) -> dict[str, np.ndarray]:
        columns: dict[str, np.ndarray] = {}
        for metric, history in self.history.items():
            for window, weeks in _WINDOW_WEEKS.items():
                name = f"{metric}_{window}"
                if name not in COLUMNS_BY_NAME:
                    continue
                if metric == "features_used" and weeks > 1:
                    columns[name] = _distinct_features(history.last(weeks))
                elif metric in UNIT_SCALE:
                    columns[name] = history.total(weeks) / UNIT_SCALE[metric]
                else:
                    columns[name] = history.total(weeks)
        return columns

    def true_probability(self, truth_by_segment_state: np.ndarray) -> np.ndarray:
        return truth_by_segment_state[self._segment(), self.state]


_NEVER = np.iinfo(np.int64).min  # "no such day on record"
_WINDOW_WEEKS = {"7d": 1, "30d": RECENT_WEEKS, "90d": HISTORY_WEEKS}
_METRICS = (
    "sessions", "active_days", "minutes", "purchases", "revenue", "support_tickets", "notifications_sent",
    "notifications_opened", "emails_sent", "emails_opened", "content_views", "searches", "social_likes",
    "social_comments", "social_shares", "cart_adds", "wishlist_adds", "features_used", "app_crashes",
    "payment_failures", "discounts_used", "referrals", "plan_changes", "email_clicks", "weekend_sessions",
    "mobile_sessions", "desktop_sessions", "late_night_sessions", "downloads", "saved_items", "refunds",
    "unsubscribes",
)


def _history_depth(metric: str) -> int:
    return HISTORY_WEEKS if f"{metric}_90d" in COLUMNS_BY_NAME else RECENT_WEEKS


def _draw_activity(population: _PanelSimulator, window_days: np.ndarray, *,
                   recent_too: bool) -> dict[str, np.ndarray]:
    """This week's value of the 90d-window metrics, and of the 30d-only ones if `recent_too`, in integer units."""
    rng = population.rng
    state = population.state
    stays_away = rng.random(population.size) < SESSION_ZERO_INFLATION[state]
    sessions = np.where(stays_away, 0, rng.poisson(SESSION_RATE[state]))
    active = np.flatnonzero(sessions)  # session-driven metrics are drawn for active customers only (speed)
    in_sessions = _draw_long_window_session_activity(rng, sessions[active], state[active], population.plan[active])
    weekly = {"sessions": sessions, **_draw_long_window_events(rng, state, population.plan, population.email_opt_in)}
    if recent_too:
        in_sessions.update(_draw_recent_session_activity(
            rng, sessions[active], state[active], window_days[active], in_sessions["purchases"],
            population.device[active], population.age_band[active]))
        weekly.update(_draw_messaging(rng, state, population.push_enabled, population.email_opt_in))
    for metric, values in in_sessions.items():
        weekly[metric] = np.zeros(population.size, dtype=np.int64)
        weekly[metric][active] = values
    weekly["discounts_used"] = _binomial_where_positive(rng, weekly["purchases"], 0.1)
    weekly["refunds"] = _binomial_where_positive(rng, weekly["purchases"], 0.05)
    return weekly


def _draw_long_window_session_activity(rng: np.random.Generator, sessions: np.ndarray, state: np.ndarray,
                                       plan: np.ndarray) -> dict[str, np.ndarray]:
    """In-session metrics with a 90d column, for customers with at least one session; rates grow with the level."""
    minutes = rng.gamma(MINUTES_SHAPE * sessions, MINUTES_PER_SESSION[state] / MINUTES_SHAPE)
    purchases = rng.poisson(sessions * CART_ADDS_PER_SESSION[state] * PURCHASE_PER_CART_ADD)
    order_value = rng.gamma(2.0 * purchases, MEAN_ORDER_VALUE_BY_PLAN[plan] / 2.0)
    return {
        "minutes": np.round(minutes * UNIT_SCALE["minutes"]),
        "purchases": purchases,
        "revenue": np.round(order_value * UNIT_SCALE["revenue"]),
        "content_views": rng.poisson(sessions * VIEWS_PER_SESSION[state]),
    }


def _draw_recent_session_activity(rng: np.random.Generator, sessions: np.ndarray, state: np.ndarray,
                                  window_days: np.ndarray, purchases: np.ndarray, device: np.ndarray,
                                  age_band: np.ndarray) -> dict[str, np.ndarray]:
    """In-session metrics with 7d/30d columns only, for customers with at least one session."""
    spread = ACTIVE_DAY_SPREAD[state]
    active_days = np.minimum(sessions, np.minimum(window_days, 1 + rng.binomial(window_days - 1, spread)))
    # Cart adds split into purchased and abandoned ones: Poisson splitting keeps both Poisson.
    abandoned = rng.poisson(sessions * CART_ADDS_PER_SESSION[state] * (1.0 - PURCHASE_PER_CART_ADD))
    likes_rate = sessions * LIKES_PER_SESSION[state]
    mobile_sessions = rng.binomial(sessions, MOBILE_SHARE_BY_DEVICE[device])
    return {
        "active_days": active_days,
        "cart_adds": purchases + abandoned,
        "searches": rng.poisson(sessions * SEARCHES_PER_SESSION[state]),
        "social_likes": rng.poisson(likes_rate),
        "social_comments": rng.poisson(COMMENTS_PER_LIKE * likes_rate),
        "social_shares": rng.poisson(SHARES_PER_LIKE * likes_rate),
        "wishlist_adds": rng.poisson(0.5 * sessions * CART_ADDS_PER_SESSION[state]),
        "features_used": np.maximum(1, rng.binomial(PRODUCT_FEATURES, FEATURE_SHARE[state])),
        "app_crashes": rng.poisson(sessions * CRASHES_PER_SESSION_BY_DEVICE[device]),
        "weekend_sessions": rng.binomial(sessions, 2 / DAYS_PER_WEEK),
        "mobile_sessions": mobile_sessions,
        "desktop_sessions": sessions - mobile_sessions,
        "late_night_sessions": rng.binomial(sessions, LATE_NIGHT_SHARE_BY_AGE_BAND[age_band]),
        "downloads": rng.poisson(0.1 * sessions),
        "saved_items": rng.poisson(sessions * SAVES_PER_SESSION[state]),
    }


def _draw_messaging(rng: np.random.Generator, state: np.ndarray, push_enabled: np.ndarray,
                    email_opt_in: np.ndarray) -> dict[str, np.ndarray]:
    """Pushes and emails go out regardless of engagement; opening them is a signal that needs no session."""
    notifications_sent = _poisson_where(rng, push_enabled, WEEKLY_NOTIFICATIONS)
    emails_sent = _poisson_where(rng, email_opt_in, WEEKLY_EMAILS)
    emails_opened = _binomial_where_positive(rng, emails_sent, EMAIL_OPEN_RATE[state])
    return {
        "notifications_sent": notifications_sent,
        "notifications_opened": _binomial_where_positive(rng, notifications_sent, NOTIFICATION_OPEN_RATE[state]),
        "emails_sent": emails_sent,
        "emails_opened": emails_opened,
        "email_clicks": _binomial_where_positive(rng, emails_opened, 0.3),
    }


def _draw_long_window_events(rng: np.random.Generator, state: np.ndarray, plan: np.ndarray,
                             email_opt_in: np.ndarray) -> dict[str, np.ndarray]:
    """Rare events with a 90d column: at most one a week (a Bernoulli draw is far cheaper than a Poisson one)."""
    def happens(probability: np.ndarray) -> np.ndarray:
        return (rng.random(len(state)) < probability).astype(np.int64)

    return {
        "support_tickets": happens(SUPPORT_TICKET_RATE[state]),
        "payment_failures": happens(0.01 * (plan != PLANS.index("free"))),  # noise
        "plan_changes": happens(0.003 * (state != CHURNED)),  # noise
        "referrals": happens(0.002 * state),
        "unsubscribes": happens(UNSUBSCRIBE_RATE[state] * email_opt_in),
    }


def _poisson_where(rng: np.random.Generator, eligible: np.ndarray, rate: float) -> np.ndarray:
    """Poisson(rate) for the eligible rows, 0 for the others."""
    counts = np.zeros(len(eligible), dtype=np.int64)
    counts[eligible] = rng.poisson(rate, int(eligible.sum()))
    return counts


def _binomial_where_positive(rng: np.random.Generator, trials: np.ndarray,
                             probability: float | np.ndarray) -> np.ndarray:
    """Binomial(trials, probability), drawn only where trials > 0: most counts are zero, and zeros stay zero."""
    successes = np.zeros(len(trials), dtype=np.int64)
    positive = np.flatnonzero(trials)
    successes[positive] = rng.binomial(trials[positive], np.broadcast_to(probability, trials.shape)[positive])
    return successes


def _draw_categories(shares: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One category per row of `shares` (each row a probability vector)."""
    cumulative = np.cumsum(shares, axis=1)
    return (rng.random(len(shares))[:, None] >= cumulative[:, :-1]).sum(axis=1)


def _distinct_features(weekly_features: list[np.ndarray]) -> np.ndarray:
    """Expected size of the union of the weekly feature sets, each a uniform draw from the product's features."""
    never_used = np.ones(len(weekly_features[0]))
    for features_used in weekly_features:
        never_used *= 1.0 - features_used / PRODUCT_FEATURES
    return np.round(PRODUCT_FEATURES * (1.0 - never_used))


def _days_since(days: np.ndarray, snapshot_day: int) -> pd.arrays.IntegerArray:
    never = days == _NEVER
    return pd.arrays.IntegerArray(np.where(never, 0, snapshot_day - days), never)


def _strings(codes: np.ndarray, vocabulary: tuple[str, ...]) -> pd.Series:
    dictionary = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(vocabulary))
    return pd.Series(dictionary.cast(pa.string()), dtype=STRING_DTYPE)


def _customer_ids(numbers: np.ndarray) -> pd.Series:
    """"C" + zero-padded number, built as one Arrow buffer (formatting a million Python strings is slow)."""
    width = max(8, len(str(int(numbers.max()))))
    characters = np.empty((len(numbers), width + 1), dtype=np.uint8)
    characters[:, 0] = ord("C")
    remaining = numbers.copy()
    for position in range(width, 0, -1):
        characters[:, position] = ord("0") + remaining % 10
        remaining //= 10
    offsets = np.arange(0, (width + 1) * len(numbers) + 1, width + 1, dtype=np.int32)
    ids = pa.StringArray.from_buffers(len(numbers), pa.py_buffer(offsets), pa.py_buffer(characters))
    return pd.Series(ids, dtype=STRING_DTYPE)


def _as_contract_dtype(name: str, values: object) -> object:
    logical_type = COLUMNS_BY_NAME[name].type
    if logical_type == "bigint" and name in NULLABLE_BIGINT_COLUMNS:
        return pd.array(values, dtype="Int64")
    if logical_type == "bigint":
        return np.asarray(values).astype(np.int64, copy=False)
    if logical_type == "double":
        return np.asarray(values, dtype=np.float64)
    return values


def _day_number(day: datetime.date) -> int:
    return int(np.datetime64(day, "D").astype(np.int64))
