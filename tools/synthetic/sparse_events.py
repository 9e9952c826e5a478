"""Sparse purchases as an event log: the repeat-purchase world of Pareto/NBD (Schmittlein, Morrison and Colombo,
1987), where the customer's whole history is the signal.

Each customer signs up on a day in the two years before the first snapshot or during the panel, and buys then.
While alive they buy at a rate lambda a day, lambda ~ Gamma(PURCHASE_SHAPE, PURCHASE_SCALE) across customers, so
the gaps between purchases are heavy-tailed over the population; each stays alive an exponential time of rate
mu ~ Gamma(DROPOUT_SHAPE, DROPOUT_SCALE), then never comes back. Every purchase comes with a visit the same day,
and visits without a purchase come at VISITS_PER_PURCHASE x lambda. A customer's order amounts scatter around
their own mean spend (Gamma-Gamma's story). Most customers buy 1 to 5 times in two years.

The log has the columns of a typical export (event_id, customer_id, occurred_at in UTC with Z, event_name,
amount), and `write_event_log` writes the mapping file that reads it beside it.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tools.synthetic.generator import DEFAULT_FIRST_SNAPSHOT

HISTORY_DAYS = 730  # by default, signups start two years before the first snapshot
PURCHASE_SHAPE, PURCHASE_SCALE = 0.6, 0.01  # lambda: mean 0.006 purchases a day (2.2 a year), heavy-tailed
DROPOUT_SHAPE, DROPOUT_SCALE = 0.7, 0.004  # mu: mean 0.0028 a day (about a year alive), heavy-tailed
VISITS_PER_PURCHASE = 1.5  # visits without a purchase, per purchase
SPEND_LOG_MEAN, SPEND_LOG_SD, ORDER_LOG_SD = 3.5, 0.6, 0.3
SECONDS_PER_DAY = 86_400
MAPPING = """# The mapping of `generate --sparse --events`' log (README, "Bring your event log")
time_zone = "UTC"
# presence_days = 365  # to score customers silent for up to a year too (default 90)

[columns]
customer_id = "customer_id"
event_time = "occurred_at"
event_id = "event_id"
event_type = "event_name"
amount = "amount"

[event_types]
session = ["visit"]
purchase = ["order"]
"""


def sparse_event_log(customers: int, weeks: int, seed: int, history_days: int = HISTORY_DAYS,
                     first_snapshot: dt.date = DEFAULT_FIRST_SNAPSHOT) -> pa.Table:
    """Every event from `history_days` before the first snapshot to the day before the last, in time order."""
    rng = np.random.default_rng(seed)
    end_day = weeks * 7 - 7  # the last snapshot's cut-off, in days after the first: its week is the last complete
    signup = rng.uniform(-history_days, end_day - 1, customers)
    rate = rng.gamma(PURCHASE_SHAPE, PURCHASE_SCALE, customers)
    alive_until = np.minimum(signup + rng.exponential(1 / rng.gamma(DROPOUT_SHAPE, DROPOUT_SCALE, customers)),
                             end_day)
    span = alive_until - signup
    orders = 1 + rng.poisson(rate * span)  # the first at signup
    visits = rng.poisson(VISITS_PER_PURCHASE * rate * span)
    order_owner = np.repeat(np.arange(customers), orders)
    first_order = np.r_[0, np.cumsum(orders)[:-1]]
    order_day = signup[order_owner] + rng.uniform(0, 1, len(order_owner)) * span[order_owner]
    order_day[first_order] = signup  # the first purchase is the signup's
    visit_owner = np.repeat(np.arange(customers), visits)
    visit_day = signup[visit_owner] + rng.uniform(0, 1, len(visit_owner)) * span[visit_owner]
    mean_spend = rng.lognormal(SPEND_LOG_MEAN, SPEND_LOG_SD, customers)
    amount = np.round(mean_spend[order_owner] * rng.lognormal(0, ORDER_LOG_SD, len(order_owner)), 2)
    before_order = np.minimum(rng.uniform(0, 1 / 24, len(order_owner)), order_day - np.floor(order_day))
    owner = np.concatenate([order_owner, order_owner, visit_owner])
    day = np.concatenate([order_day, order_day - before_order, visit_day])  # a visit, then its order
    kind = np.concatenate([np.ones(len(order_owner), bool), np.zeros(len(order_owner) + len(visit_owner), bool)])
    order = np.argsort(day, kind="stable")
    seconds = np.floor(day[order] * SECONDS_PER_DAY).astype("int64")
    start = dt.datetime.combine(first_snapshot, dt.time(), tzinfo=dt.UTC)
    times = pc.strftime(pa.array(seconds + int(start.timestamp()), pa.timestamp("s", tz="UTC")),
                        format="%Y-%m-%dT%H:%M:%SZ")
    amounts = np.full(len(day), np.nan)
    amounts[: len(order_owner)] = amount
    return pa.table({
        "event_id": pa.array([f"E{number:010d}" for number in range(len(day))]),
        "customer_id": pa.array(np.char.add("S", np.char.zfill(owner[order].astype(str), 8))),
        "occurred_at": times,
        "event_name": pa.array(np.where(kind[order], "order", "visit")),
        "amount": pa.array(amounts[order], mask=np.isnan(amounts[order])),
    })


def write_event_log(events: pa.Table, path: Path) -> Path:
    """Write the log (Parquet or CSV, by the file's suffix) and its mapping file beside it; return the mapping's
    path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        pq.write_table(events, path)
    else:
        pacsv.write_csv(events, path)
    mapping = path.with_name(f"{path.stem}.mapping.toml")
    mapping.write_text(MAPPING)
    return mapping
