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
