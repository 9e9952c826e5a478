"""How the weekly booster is fitted: its parameters, the training rows fed to XGBoost batch by batch as binned
matrices, and the one fit of the week: on every fitted row of the window, early stopping on the holdout (see
pipeline.model.holdout) picking the rounds."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import pyarrow as pa

from pipeline.model.drift import DriftReference
from pipeline.model.features import LABEL_COLUMN, FeatureSpec, feature_matrix
from pipeline.model.lean_xgboost import xgb
from pipeline.model.row_cap import KeepRates, capped_batches

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
# Rounds without a better holdout AUC before the fit stops: every one is trained and thrown away. Measured on the
# holdout AUC curves (round by round): at 100K, 20K and on the 50K sparse-purchase world, 10 keeps the same trees as
# 20 (33, 20 and 7); at 1M it keeps 45 trees for AUC 0.8683 where 20 kept 64 for 0.8685, in 35% fewer rounds.
EARLY_STOPPING_ROUNDS = 10
# Rounds that add less validation AUC than this do not count as better: without it, ten times the rows kept
# adding trees for gains in the fourth decimal (measured at 1M x 12: 81 trees for AUC 0.8695, 52 for 0.8692;
# at 100K: 38 for 0.8693, 23 for 0.8691), and boosting time grows with trees x rows.
MIN_AUC_GAIN = 2e-4


WeekFiles = dict[dt.date, list[str]]  # the fitted rows' files on this disk, by labelled week


@dataclass(frozen=True)
class TrainingFiles:
    """The training set on this disk: the fitted rows by week, and the holdout's rows."""
    weeks: WeekFiles
    holdout: list[str]

    @property
    def fitted(self) -> list[str]:
        return [path for week in sorted(self.weeks) for path in self.weeks[week]]

    @property
    def validation_week(self) -> dt.date:
        return max(self.weeks)  # the newest labelled week: the holdout's


FirstPass = Callable[[np.ndarray, "np.ndarray | None"], None]  # a batch's matrix and its rows' weights


class BatchFeed(xgb.DataIter):
    """XGBoost's view of some weeks' training rows: it pulls them batch by batch (twice: to find the bins,
    then to fill them), so no copy of the whole set is ever in memory, only its binned matrix."""

    def __init__(self, paths: list[str], spec: FeatureSpec, first_pass: FirstPass | None = None,
                 rates: KeepRates = KeepRates()):
        self._paths, self._spec, self._rates = paths, spec, rates
        self._batches: Iterator[tuple[pa.RecordBatch, np.ndarray | None]] = iter(())
        self._first_pass, self._passes = first_pass, 0  # sees each batch once (for the drift bins)
        super().__init__(release_data=True)

    def reset(self) -> None:
        self._batches = capped_batches(self._paths, self._rates)
        self._passes += 1

    def next(self, input_data: Callable) -> bool:
        rows, weights = next(self._batches, (None, None))
        if rows is None:
            return False
        matrix = feature_matrix(rows, self._spec)
        if self._first_pass and self._passes == 1:
            self._first_pass(matrix, weights)
        input_data(data=matrix, label=rows.column(LABEL_COLUMN).to_numpy(),
                   weight=weights, feature_names=self._spec.names, feature_types=self._spec.feature_types)
        return True


def binned_matrix(paths: list[str], spec: FeatureSpec, bins_of: xgb.QuantileDMatrix | None = None,
                  first_pass: FirstPass | None = None,
                  rates: KeepRates = KeepRates()) -> xgb.QuantileDMatrix:
    """QuantileDMatrix keeps each feature as its bin number (a byte), not as floats; with `bins_of` it takes
    that matrix's bin edges, so the data is sketched once and only binned again. `rates`: the row cap's."""
    return xgb.QuantileDMatrix(BatchFeed(paths, spec, first_pass, rates), ref=bins_of, enable_categorical=True)


@dataclass
class Fitted:
    booster: xgb.Booster  # its trees up to the rounds early stopping kept
    params: dict
    rounds: int
    holdout_predicted: np.ndarray  # the booster's probabilities of the holdout rows, in file order
    rows_trained: int


def fit(files: TrainingFiles, spec: FeatureSpec, drift_reference: DriftReference,
        rates: KeepRates = KeepRates()) -> Fitted:
    """One fit on every fitted row of the window; the holdout stops it when more rounds add less than
    MIN_AUC_GAIN of AUC. The histogram bins are sketched from the newest labelled week's fitted rows, the nearest
    to the week scored, and the whole window is only binned with them (sketching every row made Training 14-23%
    slower, for AUC within +-0.0007). The drift reference takes its edges from that week's rows too, in the same
    pass, and its counts from all fitted rows, on their way into the matrix."""
    params = {**BOOSTER_PARAMS, "nthread": os.cpu_count() or 1}
    bins = binned_matrix(files.weeks[files.validation_week], spec, first_pass=drift_reference.keep)
    drift_reference.fix_edges()
    fit_matrix = binned_matrix(files.fitted, spec, bins_of=bins, first_pass=drift_reference.count, rates=rates)
    holdout_matrix = binned_matrix(files.holdout, spec, bins_of=fit_matrix)
    stopping = xgb.callback.EarlyStopping(rounds=EARLY_STOPPING_ROUNDS, min_delta=MIN_AUC_GAIN, maximize=True,
                                          save_best=False)
    booster = xgb.train(params, fit_matrix, num_boost_round=MAX_ROUNDS, evals=[(holdout_matrix, "holdout")],
                        callbacks=[stopping], verbose_eval=False)
    rounds = booster.best_iteration + 1
    kept = booster[:rounds]  # the trees past the best round only waited for early stopping
    predicted = kept.predict(holdout_matrix).astype("float64")
    return Fitted(kept, params, rounds, predicted, int(fit_matrix.num_row()))


IMPORTANCE_KEPT = 30


def feature_importance(booster: xgb.Booster) -> list[dict]:
    """The features by their share of the model's total gain (the report's global importance), largest first."""
    gain = booster.get_score(importance_type="total_gain")
    total = sum(gain.values()) or 1.0
    ranked = sorted(gain.items(), key=lambda item: -item[1])[:IMPORTANCE_KEPT]
    return [{"feature": name, "share": value / total} for name, value in ranked]
