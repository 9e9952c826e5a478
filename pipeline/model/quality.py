"""How good a week's scores are, on the validation week: ranking (AUC, PR-AUC, lift and recall in the top decile),
probabilities (log loss, Brier score, expected calibration error), and the calibration that may improve them.

Calibration is learned on one half of the validation week's customers (a hash of customer_id picks the halves)
and applied to the other, both ways round: Platt scaling (a logistic fit on the log-odds) or isotonic regression
(blended with Platt, pipeline.model.calibration; tried only on halves large enough for it) is kept only when it
lowers the Brier score so measured, by 0.5% at least; else the booster's probabilities stand (weighted logistic
boosting is usually well calibrated already, and a calibration that does not help is one more thing to go wrong).
"""
from __future__ import annotations

import logging
import zlib
from typing import Iterable

import numpy as np
import pyarrow as pa
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from pipeline.core.errors import ModelStoreError
from pipeline.model.calibration import Calibration, log_odds
from pipeline.model.features import feature_matrix
from pipeline.model.scorer import Scorer, load_booster
from pipeline.model.store import ModelStore

logger = logging.getLogger(__name__)

CALIBRATION_BINS = 10  # equal-width bins of predicted probability for the ECE
# A calibration must lower the Brier score by this share to be kept: on the default panel isotonic regression
# gained 0.1% (0.09756 to 0.09746), noise, and its steps tie scores, which cost 0.0003 of AUC.
MIN_BRIER_GAIN = 0.005
# Isotonic regression beats Platt scaling only from about 1,000 rows to learn from (Niculescu-Mizil and Caruana,
# "Predicting good probabilities with supervised learning", 2005); below, its steps fit noise. Each half it is
# learnt on must hold that many, and enough of each class that its end steps are not a handful of customers. On
# 2,000-customer panels Platt's cross-fitted Brier score was the lower on 7 seeds of 8.
MIN_ISOTONIC_ROWS = 1_000
MIN_ISOTONIC_CLASS_ROWS = 100
TOP_SHARE = 0.1  # the top decile: the customers a retention team would call first


def quality_metrics(labels: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    top = _top_decile(probability)
    base_rate = float(labels.mean())
    return {
        "auc": float(roc_auc_score(labels, probability)),
        "pr_auc": float(average_precision_score(labels, probability)),
        "log_loss": float(log_loss(labels, np.clip(probability, 1e-7, 1 - 1e-7), labels=[0, 1])),
        "brier": float(brier_score_loss(labels, probability)),
        "ece": expected_calibration_error(labels, probability),
        "lift_top_decile": float(labels[top].mean() / base_rate) if base_rate else None,
        "recall_top_decile": float(labels[top].sum() / labels.sum()) if labels.sum() else None,
        "base_rate": base_rate,
    }


def _top_decile(probability: np.ndarray) -> np.ndarray:
    """The highest-scored TOP_SHARE of rows (ties broken by row order, so the count is exact; half a row rounds up,
    as athena_sql/realized_performance.sql rounds it)."""
    count = max(1, int(np.floor(len(probability) * TOP_SHARE + 0.5)))
    return np.argsort(-probability, kind="stable")[:count]


def expected_calibration_error(labels: np.ndarray, probability: np.ndarray) -> float:
    """Sum over equal-width probability bins of (share of rows) × |mean predicted − observed churn rate|."""
    bins = np.minimum((probability * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    error = 0.0
    for index in np.unique(bins):
        members = bins == index
        error += members.mean() * abs(probability[members].mean() - labels[members].mean())
    return float(error)


def in_calibration_half(customer_ids: list[str]) -> np.ndarray:
    """Which half of the validation week each customer is in (a CRC-32 of customer_id: the same on any machine)."""
    return np.array([zlib.crc32(value.encode()) % 2 == 0 for value in customer_ids], dtype=bool)


def choose_calibration(labels: np.ndarray, probability: np.ndarray,
                       halves: np.ndarray) -> tuple[Calibration, np.ndarray, dict[str, float]]:
    """Cross-fitted: each candidate is learned on one half and applied to the other, both ways round, so every
    validation row is calibrated by a map that never saw it. Return the candidate with the lowest Brier score
    (none unless one is lower), refitted on the whole week for scoring; its cross-fitted validation
    probabilities; and every candidate's Brier score. "Lower" means by MIN_BRIER_GAIN at least."""
    crossed = {"none": probability}
    for name in _candidates(labels, halves):
        calibrated = np.empty_like(probability)
        for learn in (halves, ~halves):
            calibrated[~learn] = FITS[name](labels[learn], probability[learn]).apply(probability[~learn])
        crossed[name] = calibrated
    briers = {name: float(brier_score_loss(labels, calibrated)) for name, calibrated in crossed.items()}
    best = min(briers, key=briers.get)
    if briers[best] > briers["none"] * (1 - MIN_BRIER_GAIN):
        best = "none"
    final = FITS[best](labels, probability) if best in FITS else Calibration()
    return final, crossed[best], briers


def _candidates(labels: np.ndarray, halves: np.ndarray) -> list[str]:
    """The calibrations both halves can learn: none without both classes in each, isotonic only with
    MIN_ISOTONIC_ROWS rows and MIN_ISOTONIC_CLASS_ROWS of each class in each."""
    counts = [np.bincount(labels[half].astype(int), minlength=2) for half in (halves, ~halves)]
    if any(count.min() == 0 for count in counts):
        return []
    if all(count.sum() >= MIN_ISOTONIC_ROWS and count.min() >= MIN_ISOTONIC_CLASS_ROWS for count in counts):
        return ["platt", "isotonic"]
    return ["platt"]


def _platt(labels: np.ndarray, probability: np.ndarray) -> Calibration:
    fit = LogisticRegression(C=1e6).fit(log_odds(probability).reshape(-1, 1), labels)
    return Calibration("platt", platt=(float(fit.coef_[0][0]), float(fit.intercept_[0])))


def _isotonic(labels: np.ndarray, probability: np.ndarray) -> Calibration:
    fit = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(probability, labels)
    return Calibration("isotonic", platt=_platt(labels, probability).platt, knots_x=fit.X_thresholds_.tolist(),
                       knots_y=fit.y_thresholds_.tolist())


FITS = {"platt": _platt, "isotonic": _isotonic}


def stored_model_auc(store: ModelStore, version: str, rows: Iterable[pa.RecordBatch],
                     labels: np.ndarray) -> float | None:
    """A stored model's AUC on some rows, scored as inference would score them (None if its model cannot be read:
    the reason is logged)."""
    try:
        scorer = Scorer(*load_booster(store, version), version)
    except ModelStoreError as error:
        logger.warning("model %s cannot be scored: %s", version, error)
        return None
    scores = [scorer.probability(feature_matrix(batch, scorer.features)) for batch in rows]
    return float(roc_auc_score(labels, np.concatenate(scores)))
