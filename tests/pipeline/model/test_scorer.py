"""A stored model applied to rows: the booster loaded once, calibrated probabilities, risk bands, a model's AUC."""
import functools
import logging

import numpy as np
import pyarrow as pa
import pytest
import xgboost as xgb
from sklearn.metrics import roc_auc_score

from pipeline.core.errors import ModelStoreError
from pipeline.model.calibration import Calibration
from pipeline.model.features import FeatureSpec, feature_matrix, fit_feature_spec
from pipeline.model.quality import stored_model_auc
from pipeline.model.scorer import Scorer, load_booster, risk_band, scoring_matrix
from pipeline.model.store import ModelStore, StoredModel

ROUNDS = 6


def test_risk_bands_split_at_the_documented_thresholds():
    assert risk_band(np.array([0.0, 0.19, 0.2, 0.49, 0.5, 1.0])).tolist() == [
        "low", "low", "medium", "medium", "high", "high"]


def training_rows(rows: int = 300, seed: int = 3) -> tuple[pa.Table, np.ndarray]:
    rng = np.random.default_rng(seed)
    table = pa.table({"sessions_7d": rng.integers(0, 5, rows), "plan": rng.choice(["free", "basic"], rows)})
    labels = ((table.column("sessions_7d").to_numpy() == 0) | (rng.random(rows) < 0.1)).astype(int)
    return table, labels


@functools.cache
def trained_model() -> tuple[bytes, FeatureSpec]:
    """One small booster for the whole module (one thread: the CPU is shared)."""
    rows, labels = training_rows()
    spec = fit_feature_spec([rows])
    matrix = xgb.DMatrix(feature_matrix(rows, spec), label=labels, feature_names=spec.names,
                         feature_types=spec.feature_types, enable_categorical=True)
    booster = xgb.train({"objective": "binary:logistic", "seed": 1, "max_depth": 2, "nthread": 1}, matrix, ROUNDS)
    return bytes(booster.save_raw("ubj")), spec


def store_model(storage, version: str = "v1", calibration: Calibration = Calibration(),
                best_iteration: int = ROUNDS - 1) -> pa.Table:
    model, spec = trained_model()
    ModelStore(storage).save(StoredModel(version, model, spec, {}, {"best_iteration": best_iteration}, calibration),
                             pa.table({"customer_id": ["x"], "churned": [0], "churn_probability": [0.1]}))
    return training_rows()[0]


def test_a_stored_model_loads_as_a_booster_with_its_spec(services):
    store_model(services.storage)
    booster, model = load_booster(ModelStore(services.storage), "v1")
    assert isinstance(booster, xgb.Booster) and booster.num_boosted_rounds() == ROUNDS
    assert model.version == "v1" and model.features.names == booster.feature_names


def test_a_damaged_model_file_raises_the_stores_error_naming_it(services):
    store_model(services.storage)
    services.storage.write_bytes("models/model_version=v1/model.ubj", b"\x00 not a model")
    with pytest.raises(ModelStoreError, match=r"model version v1: .*model\.ubj is damaged \(.+\); run the week"):
        load_booster(ModelStore(services.storage), "v1")


def test_a_version_not_in_the_store_raises_the_stores_error(services):
    with pytest.raises(ModelStoreError, match="model version v9 is not in the model store"):
        load_booster(ModelStore(services.storage), "v9")


def test_probabilities_are_the_boosters_up_to_its_best_iteration_then_calibrated(services):
    platt = Calibration("platt", platt=(0.5, -0.2))
    rows = store_model(services.storage, calibration=platt, best_iteration=2)
    scorer = Scorer(*load_booster(ModelStore(services.storage), "v1"), "v1")
    booster = load_booster(ModelStore(services.storage), "v1")[0]
    matrix = feature_matrix(rows, scorer.features)

    probability = scorer.probability(matrix)

    raw = booster.predict(scoring_matrix(rows, scorer.features), iteration_range=(0, 3))
    assert scorer.rounds == (0, 3) and scorer.model_version == "v1"
    assert probability.dtype == np.float64 and probability == pytest.approx(platt.apply(raw.astype("float64")))
    every_round = booster.predict(scoring_matrix(rows, scorer.features))
    assert not np.allclose(raw, every_round)  # the rounds past the best iteration are not used


def test_an_uncalibrated_model_scores_the_boosters_probability(services):
    rows = store_model(services.storage)
    scorer = Scorer(*load_booster(ModelStore(services.storage), "v1"), "v1")
    raw = scorer.booster.predict(scoring_matrix(rows, scorer.features), iteration_range=(0, ROUNDS))
    assert scorer.probability(feature_matrix(rows, scorer.features)) == pytest.approx(raw)
    assert 0 < raw.min() and raw.max() < 1


def test_a_stored_models_auc_is_taken_on_its_scores_batch_by_batch(services):
    rows = store_model(services.storage)
    _, labels = training_rows()
    scorer = Scorer(*load_booster(ModelStore(services.storage), "v1"), "v1")
    expected = roc_auc_score(labels, scorer.probability(feature_matrix(rows, scorer.features)))

    auc = stored_model_auc(ModelStore(services.storage), "v1", rows.to_batches(max_chunksize=70), labels)

    assert auc == pytest.approx(expected) and auc > 0.6  # no sessions, the likelier churn: the model learned it


def test_an_unreadable_model_has_no_auc_and_the_reason_is_logged(services, caplog):
    rows = store_model(services.storage)
    _, labels = training_rows()
    services.storage.write_bytes("models/model_version=v1/model.ubj", b"truncated")
    caplog.set_level(logging.WARNING, logger="pipeline.model.scorer")

    assert stored_model_auc(ModelStore(services.storage), "v1", rows.to_batches(), labels) is None
    assert "model v1 cannot be scored" in caplog.text and "is damaged" in caplog.text
    assert stored_model_auc(ModelStore(services.storage), "missing", rows.to_batches(), labels) is None
