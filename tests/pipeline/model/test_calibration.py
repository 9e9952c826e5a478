"""A stored calibration maps the booster's probability to a calibrated one: none, Platt or isotonic."""
import json

import numpy as np
import pytest

from pipeline.model.calibration import EPSILON, ISOTONIC_PLATT_SHARE, Calibration, log_odds

PROBABILITIES = np.array([0.01, 0.2, 0.5, 0.8, 0.99])


def test_no_calibration_leaves_the_probability_as_it_is():
    assert Calibration().apply(PROBABILITIES).tolist() == PROBABILITIES.tolist()


def test_platt_applies_slope_and_intercept_on_the_log_odds():
    calibrated = Calibration("platt", platt=(2.0, -1.0)).apply(np.array([0.5, 0.8]))
    # log-odds 0 -> sigmoid(-1); log-odds ln 4 -> sigmoid(2 ln 4 - 1) = 16 / (16 + e)
    assert calibrated == pytest.approx([1 / (1 + np.e), 16 / (16 + np.e)])


def test_the_identity_platt_map_changes_nothing():
    assert Calibration("platt", platt=(1.0, 0.0)).apply(PROBABILITIES) == pytest.approx(PROBABILITIES)


def test_platt_keeps_the_order_of_the_scores_with_a_positive_slope():
    calibrated = Calibration("platt", platt=(0.7, 0.3)).apply(PROBABILITIES)
    assert np.all(np.diff(calibrated) > 0) and np.all((calibrated > 0) & (calibrated < 1))


def test_platt_of_a_certain_score_stays_finite():
    calibrated = Calibration("platt", platt=(1.0, 0.0)).apply(np.array([0.0, 1.0]))
    assert np.all(np.isfinite(calibrated)) and calibrated[0] == pytest.approx(EPSILON)


def test_isotonic_blends_its_interpolated_steps_with_a_share_of_the_platt_map():
    isotonic = Calibration("isotonic", platt=(2.0, -1.0), knots_x=[0.2, 0.6], knots_y=[0.1, 0.5])
    probability = np.array([0.0, 0.2, 0.4, 0.6, 1.0])
    steps = np.array([0.1, 0.1, 0.3, 0.5, 0.5])  # interpolated between the knots, held beyond them
    platt = Calibration("platt", platt=(2.0, -1.0)).apply(probability)
    assert isotonic.apply(probability) == pytest.approx((1 - ISOTONIC_PLATT_SHARE) * steps
                                                        + ISOTONIC_PLATT_SHARE * platt)


def test_isotonic_keeps_distinct_scores_distinct_and_off_zero_and_one():
    """Pure end steps (no churner below 0.3, only churners above 0.7) once published exact 0s and 1s, tied."""
    isotonic = Calibration("isotonic", platt=(1.0, 0.0), knots_x=[0.0, 0.3, 0.7, 1.0], knots_y=[0.0, 0.0, 1.0, 1.0])
    calibrated = isotonic.apply(np.linspace(0, 1, 101))
    assert np.all(np.diff(calibrated) > 0) and np.all((calibrated > 0) & (calibrated < 1))


@pytest.mark.parametrize("calibration", [Calibration(), Calibration("platt", platt=(5.0, 0.0))])
def test_no_map_returns_a_certainty(calibration):
    """A saturated booster (float32 rounds a large margin to 1.0) or a steep Platt map once reached 0 and 1."""
    calibrated = calibration.apply(np.array([0.0, 1e-9, 1 - 1e-9, 1.0]))
    assert np.all((calibrated > 0) & (calibrated < 1))


def test_log_odds_are_clipped_away_from_zero_and_one():
    assert log_odds(np.array([0.5]))[0] == 0.0
    assert log_odds(np.array([0.0, 1.0])) == pytest.approx([np.log(EPSILON / (1 - EPSILON)),
                                                          np.log((1 - EPSILON) / EPSILON)])


@pytest.mark.parametrize("calibration", [
    Calibration(),
    Calibration("platt", platt=(1.5, -0.25)),
    Calibration("isotonic", platt=(1.2, 0.1), knots_x=[0.0, 0.3, 1.0], knots_y=[0.05, 0.2, 0.9]),
])
def test_a_calibration_round_trips_through_its_stored_json(calibration):
    stored = json.loads(json.dumps(calibration.to_dict()))  # as the model store writes and reads it
    restored = Calibration.from_dict(stored)
    assert restored == calibration
    assert restored.apply(PROBABILITIES) == pytest.approx(calibration.apply(PROBABILITIES))


def test_a_model_stored_without_a_calibration_reads_as_none():
    assert Calibration.from_dict(None) == Calibration()
    assert Calibration.from_dict({}) == Calibration("none", (1.0, 0.0), [], [])
