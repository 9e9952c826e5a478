"""The population stability index: bins from one sample, counts from another."""
import numpy as np
import pytest

from pipeline.model import drift
from pipeline.model.features import FeatureSpec

SPEC = FeatureSpec(numeric=["steady", "shifted", "constant"], categories={})


def sample(rng, shift: float) -> np.ndarray:
    return np.column_stack([rng.normal(size=20_000), rng.normal(loc=shift, size=20_000),
                            np.zeros(20_000)]).astype(np.float32)


def test_a_shifted_feature_has_a_large_psi_and_a_steady_one_a_small_one():
    rng = np.random.default_rng(4)
    reference = sample(rng, 0.0)
    edges = drift.bin_edges(reference, SPEC)
    assert len(edges["steady"]) == 9 and edges["constant"] == [0.0]  # deciles; a constant has one edge
    window = drift.bin_counts(reference, SPEC, edges)
    week = drift.add_counts(drift.bin_counts(sample(rng, 1.0)[:10_000], SPEC, edges),
                            drift.bin_counts(sample(rng, 1.0)[10_000:], SPEC, edges))  # two shards
    assert sum(week["steady"]) == 20_000 // drift.SAMPLE_STEP
    assert drift.psi(window["steady"], week["steady"]) < 0.01
    assert drift.psi(window["shifted"], week["shifted"]) > drift.PSI_WARNING
    assert drift.psi(window["constant"], week["constant"]) == pytest.approx(0)


def test_window_counts_weigh_each_row_by_the_rows_it_stands_for():
    """The older weeks keep a share of their rows and weigh each by 1 / that share: counted unweighted, the window
    would hold too many of the rows kept whole."""
    rng = np.random.default_rng(5)
    kept_whole, sampled = sample(rng, 0.0), sample(rng, 1.0)[::5]  # a fifth of a shifted population, each worth 5
    rows = np.concatenate([kept_whole, sampled])
    weights = np.concatenate([np.ones(len(kept_whole)), np.full(len(sampled), 5.0)])
    edges = drift.bin_edges(kept_whole, SPEC)
    counts = drift.bin_counts(rows, SPEC, edges, weights)
    everyone = drift.bin_counts(np.concatenate([kept_whole, sample(rng, 1.0)]), SPEC, edges)
    assert sum(counts["shifted"]) == pytest.approx(sum(everyone["shifted"]), rel=0.01)
    assert drift.psi(everyone["shifted"], counts["shifted"]) < 0.01
    assert drift.psi(everyone["shifted"], drift.bin_counts(rows, SPEC, edges)["shifted"]) > 0.05
