"""Customers' weekly activity as the repeat-purchase models read it: (x active weeks after the first, t_x the last
active one, n weeks after the first), customers with the same pattern counted together, so the models' work is
per pattern (at most weeks^2 of them), not per customer. Shared by BG/BB (repeat_purchase_baseline.py) and
Pareto/NBD (pareto_nbd.py)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

PATTERN_CHUNK = 64  # patterns a model integrates at once: its grid of nodes is per pattern


@dataclass(frozen=True)
class Patterns:
    """Customers grouped by (x active weeks after the first, t_x = the last active one, n weeks after the first)."""
    x: np.ndarray
    t_x: np.ndarray
    n: np.ndarray
    customers: np.ndarray  # how many customers share each pattern

    def chunk(self, start: int, size: int) -> "Patterns":
        return Patterns(*(values[start:start + size] for values in (self.x, self.t_x, self.n, self.customers)))


def activity_patterns(active: pd.DataFrame) -> tuple[pd.Series, Patterns]:
    """`active`: customers x weeks of True/False/NaN (NaN before a customer's first row). Returns each
    customer's pattern number and the patterns. Week 0 of a customer is their first row, counted as the start
    (BG/BB's transaction at time 0), so opportunities are the n weeks after it."""
    seen = active.notna().to_numpy()
    first = seen.argmax(axis=1)
    weeks = active.to_numpy(dtype=float, na_value=0.0) > 0
    offsets = np.arange(weeks.shape[1])[None, :] - first[:, None]
    after_first = weeks & (offsets > 0)
    x = after_first.sum(axis=1)
    t_x = np.where(x > 0, np.where(after_first, offsets, 0).max(axis=1), 0)
    n = weeks.shape[1] - 1 - first
    keys = pd.DataFrame({"x": x, "t_x": t_x, "n": n})
    grouped = keys.groupby(["x", "t_x", "n"]).size().reset_index(name="customers")
    number = keys.merge(grouped.reset_index(), on=["x", "t_x", "n"], how="left")["index"]
    return pd.Series(number.to_numpy(), index=active.index), Patterns(*(grouped[c].to_numpy() for c in
                                                                         ("x", "t_x", "n", "customers")))
