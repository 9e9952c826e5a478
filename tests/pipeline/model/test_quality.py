"""The validation metrics, checked against hand computations, and the calibration that is kept only if it helps."""
import numpy as np
import pytest

from pipeline.model.calibration import Calibration
from pipeline.model.quality import (
    FITS,
    MIN_ISOTONIC_ROWS,
    choose_calibration,
    expected_calibration_error,
    in_calibration_half,
    quality_metrics,
)


def test_metrics_match_a_hand_computation():
    labels = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1] * 2)
    probability = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.2, 0.1, 0.1, 0.1, 0.05] * 2)
    metrics = quality_metrics(labels, probability)
    assert metrics["base_rate"] == 0.3
    assert metrics["brier"] == pytest.approx(np.mean((probability - labels) ** 2))
    # the top 10% is the two rows scored 0.9, both churned: lift 1 / 0.3, recall 2 of 6
    assert metrics["lift_top_decile"] == pytest.approx(1 / 0.3) and metrics["recall_top_decile"] == pytest.approx(1 / 3)
    assert 0 < metrics["pr_auc"] <= 1 and 0 < metrics["auc"] < 1


def test_the_expected_calibration_error_weighs_each_bins_gap_by_its_rows():
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 1])
    probability = np.array([0.05, 0.05, 0.05, 0.05, 0.95, 0.95, 0.95, 0.95])
    # bin 0: 4 rows, mean 0.05 vs 1/4 churned; bin 9: 4 rows, mean 0.95 vs all churned
    assert expected_calibration_error(labels, probability) == pytest.approx(0.5 * 0.2 + 0.5 * 0.05)


def panel(rng, distort, rows=20_000, low=0.01, high=0.99):
    truth = rng.uniform(low, high, rows)
    labels = (rng.uniform(size=truth.size) < truth).astype(int)
    customers = [f"c{index}" for index in range(truth.size)]
    return labels, distort(truth), in_calibration_half(customers)


def test_a_miscalibrated_score_is_calibrated_and_its_brier_score_falls():
    labels, squashed, halves = panel(np.random.default_rng(1), lambda truth: truth ** 3)
    calibration, calibrated, briers = choose_calibration(labels, squashed, halves)
    assert calibration.method in ("platt", "isotonic")
    assert briers[calibration.method] < briers["none"] - 0.01
    assert quality_metrics(labels, calibrated)["ece"] < quality_metrics(labels, squashed)["ece"] / 3
    assert 0.3 < halves.mean() < 0.7  # two halves, by customer


def test_a_calibrated_score_is_left_as_it_is():
    labels, truth, halves = panel(np.random.default_rng(2), lambda truth: truth)
    calibration, calibrated, briers = choose_calibration(labels, truth, halves)
    assert calibration.method == "none" and (calibrated == truth).all()
    assert Calibration.from_dict(calibration.to_dict()) == calibration


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_a_stored_calibration_maps_the_same_after_a_round_trip(method):
    labels, squashed, halves = panel(np.random.default_rng(3), lambda truth: truth ** 3)
    calibration = FITS[method](labels, squashed)
    assert calibration.method == method
    restored = Calibration.from_dict(calibration.to_dict())
    assert np.allclose(restored.apply(squashed[:100]), calibration.apply(squashed[:100]))


@pytest.mark.parametrize("rows, low, high", [(MIN_ISOTONIC_ROWS, 0.01, 0.99),  # halves of about 500 rows
                                              (20_000, 0.001, 0.009)])  # about 50 churners in each half
def test_isotonic_is_not_tried_on_halves_too_small_for_it(rows, low, high):
    labels, squashed, halves = panel(np.random.default_rng(4), lambda truth: truth ** 3, rows, low, high)
    calibration, _, briers = choose_calibration(labels, squashed, halves)
    assert "isotonic" not in briers and calibration.method in ("platt", "none")


def test_isotonic_is_tried_on_halves_large_enough_for_it():
    labels, squashed, halves = panel(np.random.default_rng(5), lambda truth: truth ** 3)
    assert set(choose_calibration(labels, squashed, halves)[2]) == {"none", "platt", "isotonic"}
