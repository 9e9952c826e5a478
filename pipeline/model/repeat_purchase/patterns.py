"""Customers' weekly activity as the repeat-purchase models read it: (x active weeks after the first, t_x the last
active one, n weeks after the first), customers with the same pattern counted together, so the models' work is
per pattern (at most weeks^3 / 6 of them), not per customer."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The weeks of activity a pattern counts, at most: the snapshots read stay flat after two years, and a customer's
# clock starts at their first row within them.
HISTORY_WEEKS = 104

@dataclass(frozen=True)
class Patterns:
    """Customers grouped by (x active weeks after the first, t_x = the last active one, n weeks after the first)."""
    x: np.ndarray
    t_x: np.ndarray
    n: np.ndarray
    customers: np.ndarray  # how many customers share each pattern

    def chunk(self, start: int, size: int) -> "Patterns":
        return Patterns(*(values[start:start + size] for values in (self.x, self.t_x, self.n, self.customers)))


def patterns_of(x: np.ndarray, t_x: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, Patterns]:
    """Each customer's pattern number, and the distinct patterns with their customer counts."""
    keys = np.stack([np.asarray(x, dtype=np.int64), np.asarray(t_x, dtype=np.int64), np.asarray(n, dtype=np.int64)],
                    axis=1)
    distinct, pattern_of, customers = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    return pattern_of.reshape(-1), Patterns(distinct[:, 0], distinct[:, 1], distinct[:, 2], customers)
