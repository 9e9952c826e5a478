"""How the weekly booster is fitted: its parameters, the training rows fed to XGBoost batch by batch as binned
matrices, the evaluation fit (early stopping on the validation week picks the rounds) and the published fit on the
whole window with that many rounds."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import pyarrow as pa
import xgboost as xgb

from pipeline.model.drift import DriftReference
from pipeline.model.features import LABEL_COLUMN, WEIGHT_COLUMN, FeatureSpec, feature_matrix
from pipeline.warehouse.objects import parquet_batches

BOOSTER_PARAMS = {
    "objective": "binary:logistic",
    "eval_metric": "auc",
    "tree_method": "hist",
    "learning_rate": 0.2,
    "max_depth": 6,
    "min_child_weight": 5,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "max_cat_to_onehot": 8,
    "seed": 7,
}
# Past ~200 rounds the validation AUC creeps up by thousandths while training time keeps growing linearly.
MAX_ROUNDS = 250
EARLY_STOPPING_ROUNDS = 20
# Rounds that add less validation AUC than this do not count as better: without it, ten times the rows kept
# adding trees for gains in the fourth decimal (measured at 1M x 12: 81 trees for AUC 0.8695, 52 for 0.8692;
# at 100K: 38 for 0.8693, 23 for 0.8691), and boosting time grows with trees x rows.
MIN_AUC_GAIN = 2e-4


WeekFiles = dict[dt.date, list[str]]  # the training set's files on this disk, by labelled week


def rows_of_weeks(files: WeekFiles, weeks: list[dt.date], columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    """The training rows of some weeks, batch by batch, in file order (the same order on every pass)."""
    for week in weeks:
        yield from parquet_batches(files[week], columns=columns)


class BatchFeed(xgb.DataIter):
    """XGBoost's view of some weeks' training rows: it pulls them batch by batch (twice: to find the bins,
    then to fill them), so no copy of the whole set is ever in memory, only its binned matrix."""

    def __init__(self, files: WeekFiles, weeks: list[dt.date], spec: FeatureSpec,
                 first_pass: Callable[[np.ndarray], None] | None = None):
        self._files, self._weeks, self._spec = files, weeks, spec
        self._batches: Iterator[pa.RecordBatch] = iter(())
        self._first_pass, self._passes = first_pass, 0  # sees each batch's matrix once (for the drift bins)
        super().__init__(release_data=True)

    def reset(self) -> None:
        self._batches = rows_of_weeks(self._files, self._weeks)
        self._passes += 1

    def next(self, input_data: Callable) -> bool:
        rows = next(self._batches, None)
        if rows is None:
            return False
        weights = rows.column(WEIGHT_COLUMN).to_numpy() if WEIGHT_COLUMN in rows.schema.names else None
        matrix = feature_matrix(rows, self._spec)
        if self._first_pass and self._passes == 1:
            self._first_pass(matrix)
        input_data(data=matrix, label=rows.column(LABEL_COLUMN).to_numpy(),
                   weight=weights, feature_names=self._spec.names, feature_types=self._spec.feature_types)
        return True


def binned_matrix(files: WeekFiles, weeks: list[dt.date], spec: FeatureSpec,
                  bins_of: xgb.QuantileDMatrix | None = None,
                  first_pass: Callable[[np.ndarray], None] | None = None) -> xgb.QuantileDMatrix:
    """QuantileDMatrix keeps each feature as its bin number (a byte), not as floats; with `bins_of` it takes
    that matrix's bin edges, so the data is sketched once and only binned again."""
    return xgb.QuantileDMatrix(BatchFeed(files, weeks, spec, first_pass), ref=bins_of, enable_categorical=True)


@dataclass
class Fitted:
    booster: xgb.Booster  # fitted on the whole window
    params: dict
    rounds: int
    validation_predicted: np.ndarray  # the evaluation fit's raw scores of the validation week, in file order
    rows_trained: int


def fit(files: WeekFiles, fit_weeks: list[dt.date], validation_week: dt.date, spec: FeatureSpec,
        drift_reference: DriftReference) -> Fitted:
    """Measure on the validation week with a model fitted on older weeks (early stopping picks the rounds), then
    fit the published model on every week of the window with that many rounds; the drift reference is filled from
    the matrices on the way."""
    params = {**BOOSTER_PARAMS, "nthread": os.cpu_count() or 1}
    fit_matrix = binned_matrix(files, fit_weeks, spec)
    validation_matrix = binned_matrix(files, [validation_week], spec, bins_of=fit_matrix,
                                      first_pass=drift_reference.keep)
    stopping = xgb.callback.EarlyStopping(rounds=EARLY_STOPPING_ROUNDS, min_delta=MIN_AUC_GAIN, maximize=True,
                                          save_best=False)
    evaluated = xgb.train(params, fit_matrix, num_boost_round=MAX_ROUNDS, evals=[(validation_matrix, "validation")],
                          callbacks=[stopping], verbose_eval=False)
    rounds = evaluated.best_iteration + 1
    predicted = evaluated.predict(validation_matrix, iteration_range=(0, rounds)).astype("float64")
    del fit_matrix  # the validation matrix has the same bin edges: the window takes them from it
    drift_reference.fix_edges()
    window_matrix = binned_matrix(files, sorted(files), spec, bins_of=validation_matrix,
                                  first_pass=drift_reference.count)
    del validation_matrix
    booster = xgb.train(params, window_matrix, num_boost_round=rounds)
    return Fitted(booster, params, rounds, predicted, int(window_matrix.num_row()))


IMPORTANCE_KEPT = 30


def feature_importance(booster: xgb.Booster) -> list[dict]:
    """The features by their share of the model's total gain (the report's global importance), largest first."""
    gain = booster.get_score(importance_type="total_gain")
    total = sum(gain.values()) or 1.0
    ranked = sorted(gain.items(), key=lambda item: -item[1])[:IMPORTANCE_KEPT]
    return [{"feature": name, "share": value / total} for name, value in ranked]
