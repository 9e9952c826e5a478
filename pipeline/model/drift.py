"""Population stability index of each numeric feature, between the training window and the week scored.

Training stores, per feature, the decile edges of the newest labelled week's values and the share of the window's
rows between each pair of edges; each inference shard counts its rows the same way; Publish adds the shards' counts
up and records each feature's PSI = sum over bins of (scored share - window share) * ln(scored / window) as a
data-quality warning (`psi:<feature>`, above PSI_WARNING) and in the run report.
"""
from __future__ import annotations

import numpy as np

from pipeline.model.features import FeatureSpec

BINS = 10
PSI_WARNING = 0.2  # the usual reading: under 0.1 stable, 0.1 to 0.2 a shift to watch, above 0.2 a real change
SMALLEST_SHARE = 1e-4  # an empty bin would make the logarithm infinite
# Shares are estimated from every 4th row (still 25,000 of every 100,000): counting them all cost Training 1 s of
# its 10 at 100,000 customers, for a PSI that moves in the third decimal.
SAMPLE_STEP = 4
# The edges are deciles of the newest labelled week's fitted rows: all of them, up to this many.
EDGE_ROWS = 100_000


def bin_edges(matrix: np.ndarray, spec: FeatureSpec) -> dict[str, list[float]]:
    """The inner decile edges of each numeric feature (fewer where values repeat; none for a constant)."""
    quantiles = np.linspace(0, 1, BINS + 1)[1:-1]
    return {name: np.unique(np.quantile(matrix[:, index], quantiles)).tolist()
            for index, name in enumerate(spec.numeric)}


def bin_counts(matrix: np.ndarray, spec: FeatureSpec, edges: dict[str, list[float]],
               weights: np.ndarray | None = None) -> dict[str, list[float]]:
    """Rows (every SAMPLE_STEP-th) per bin of each numeric feature; with `weights`, the rows they stand for."""
    matrix = matrix[::SAMPLE_STEP]
    weights = None if weights is None else weights[::SAMPLE_STEP]
    return {name: np.bincount(np.searchsorted(edges[name], matrix[:, index], side="right"), weights=weights,
                              minlength=len(edges[name]) + 1).tolist()
            for index, name in enumerate(spec.numeric) if name in edges}


def add_counts(total: dict[str, list[float]], more: dict[str, list[float]]) -> dict[str, list[float]]:
    return {name: [a + b for a, b in zip(total.get(name, [0] * len(counts)), counts)] for name, counts in more.items()}


def psi(expected: list[float], actual: list[float]) -> float:
    expected_share = np.maximum(np.asarray(expected, float) / max(sum(expected), 1), SMALLEST_SHARE)
    actual_share = np.maximum(np.asarray(actual, float) / max(sum(actual), 1), SMALLEST_SHARE)
    return float(np.sum((actual_share - expected_share) * np.log(actual_share / expected_share)))


class DriftReference:
    """Each numeric feature's decile edges (of the newest labelled week) and the window's fitted rows per bin, for
    the PSI: the counts taken from the matrices the binned matrix is built from (no pass of their own over the
    rows), each row weighted by the rows it stands for. Unweighted, the sampled older weeks (fewer retained
    customers kept, each weighing more) would count churners several times over, and the window would look
    unlike any week scored."""

    def __init__(self, spec: FeatureSpec):
        self.spec = spec
        self.newest_week: list[np.ndarray] = []
        self.edges: dict[str, list[float]] = {}
        self.counts: dict[str, list[float]] = {}

    def keep(self, matrix: np.ndarray, weights: np.ndarray | None = None) -> None:
        room = EDGE_ROWS - sum(len(kept) for kept in self.newest_week)
        if room > 0:
            self.newest_week.append(matrix[:room, :len(self.spec.numeric)].copy())

    def fix_edges(self) -> None:
        self.edges = bin_edges(np.concatenate(self.newest_week), self.spec)
        self.newest_week = []

    def count(self, matrix: np.ndarray, weights: np.ndarray | None = None) -> None:
        self.counts = add_counts(self.counts, bin_counts(matrix, self.spec, self.edges, weights))

    def to_dict(self) -> dict:
        return {"edges": self.edges, "counts": self.counts}
