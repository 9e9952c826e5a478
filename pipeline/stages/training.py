"""Training (Fargate): fit the weekly XGBoost model with a time-based validation week; store it with its metrics."""
from __future__ import annotations

import datetime as dt
import logging
import os
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import xgboost as xgb
from sklearn.metrics import roc_auc_score

from pipeline import champion, drift
from pipeline.errors import DataQualityError, ModelStoreError
from pipeline.features import (LABEL_COLUMN, TRAINING_WEEK_COLUMN, WEIGHT_COLUMN, FeatureSpec, feature_matrix,
                               fit_feature_spec)
from pipeline.keys import reference_scores_key, training_prefix
from pipeline.model_quality import choose_calibration, in_calibration_half, quality_metrics
from pipeline.model_store import ModelStore, StoredModel
from pipeline.ports import Services, Storage
from pipeline.run import Run
from pipeline.stages.inference import Scorer, load_booster
from pipeline.storage import data_keys_by_partition, local_copies, newest_attempt, parquet_batches, read_parquet
from pipeline.week_lock import hold_week

logger = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class LabelCount:
    rows: int
    churned: int

    @staticmethod
    def total(counts: Iterable[LabelCount]) -> LabelCount:
        counts = list(counts)
        return LabelCount(sum(count.rows for count in counts), sum(count.churned for count in counts))


WeekFiles = dict[dt.date, list[str]]  # the training set's files on this disk, by labelled week


def count_labels(files: WeekFiles) -> dict[dt.date, LabelCount]:
    """Rows and churned rows per labelled week, reading only the label column."""
    counts = {}
    for week, paths in files.items():
        labels = [batch.column(LABEL_COLUMN) for batch in parquet_batches(paths, columns=[LABEL_COLUMN])]
        counts[week] = LabelCount(sum(len(column) for column in labels),
                                  sum(pc.sum(column).as_py() or 0 for column in labels))
    return counts


def split_by_week(label_counts: dict[dt.date, LabelCount],
                  churn_horizon_weeks: int) -> tuple[list[dt.date], dt.date]:
    """(evaluation-fit weeks, validation week), the way the model is used: validate on the newest labelled
    week, fit on weeks at least churn_horizon_weeks older, so that no fitted label looks at the weeks the
    validation labels come from (as at scoring time, when the future is unknown)."""
    validation_week = max(label_counts)
    newest_fit_week = validation_week - dt.timedelta(weeks=churn_horizon_weeks)
    fit_weeks = sorted(week for week in label_counts if week <= newest_fit_week)
    if not fit_weeks:
        raise DataQualityError(f"no labelled week on or before {newest_fit_week} to fit on (validation week "
                               f"{validation_week}, churn_horizon_weeks={churn_horizon_weeks})")
    for name, weeks in (("training weeks", fit_weeks), (f"validation week {validation_week}", [validation_week])):
        counted = LabelCount.total(label_counts[week] for week in weeks)
        if counted.churned in (0, counted.rows):
            raise DataQualityError(f"{name}: every row has churned={int(counted.churned > 0)}; "
                                   "a model needs both churned and retained customers")
    return fit_weeks, validation_week


def rows_of_weeks(files: WeekFiles, weeks: list[dt.date], columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    """The training rows of some weeks, batch by batch, in file order (the same order on every pass)."""
    for week in weeks:
        yield from parquet_batches(files[week], columns=columns)


class _Feed(xgb.DataIter):
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
    return xgb.QuantileDMatrix(_Feed(files, weeks, spec, first_pass), ref=bins_of, enable_categorical=True)


def reference_auc(storage: Storage, validation: pd.DataFrame, validation_week: dt.date,
                  churn_horizon_weeks: int) -> float | None:
    """AUC of the week's reference scores, when someone knows the true probabilities: on synthetic data the
    generator does, from each customer's latent state: no model of the snapshots reaches it (on the default
    panel the best one can is about 0.012 lower: `python -m tools.observable_ceiling`).

    Storage only (the task role grants S3, not Glue): a landing the scores describe that is gone was replaced.
    """
    key = reference_scores_key(validation_week)
    if not storage.exists(key):
        return None  # real data: nobody knows the true probabilities
    reference = read_parquet(storage, key)
    described = reference.schema.metadata or {}
    landing = described.get(b"snapshot_key", b"").decode()
    if not landing or not storage.exists(landing):
        return None  # the week was landed again since (which retires the old landing): other data
    if described.get(b"churn_horizon_weeks", b"").decode() != str(churn_horizon_weeks):
        return None  # scores for another horizon answer another question
    joined = validation.merge(reference.to_pandas(), on="customer_id", how="inner", suffixes=("", "_reference"))
    if len(joined) != len(validation):
        return None
    return float(roc_auc_score(joined[LABEL_COLUMN], joined["churn_probability_reference"]))


def train(services: Services, run: Run) -> dict:
    """Measure on the validation week with a model fitted on older weeks (early stopping picks the rounds), then
    fit the published model on every week of the training window with that many rounds."""
    hold_week(services, run)
    training_set = newest_attempt(services.storage, training_prefix(run.run_date))
    keys = data_keys_by_partition(services.storage, training_set, TRAINING_WEEK_COLUMN)
    with ExitStack() as stack:
        files = {dt.date.fromisoformat(week): stack.enter_context(local_copies(services.storage, week_keys))
                 for week, week_keys in sorted(keys.items())}
        return _train_on(services, run, files)


def _train_on(services: Services, run: Run, files: WeekFiles) -> dict:
    label_counts = count_labels(files)
    fit_weeks, validation_week = split_by_week(label_counts, run.churn_horizon_weeks)
    window_weeks = sorted(files)
    spec = fit_feature_spec(rows_of_weeks(files, window_weeks))
    params = {**BOOSTER_PARAMS, "nthread": os.cpu_count() or 1}
    fit_matrix = binned_matrix(files, fit_weeks, spec)
    reference = _DriftReference(spec)
    validation_matrix = binned_matrix(files, [validation_week], spec, bins_of=fit_matrix,
                                      first_pass=reference.keep)
    stopping = xgb.callback.EarlyStopping(rounds=EARLY_STOPPING_ROUNDS, min_delta=MIN_AUC_GAIN, maximize=True,
                                          save_best=False)
    evaluated = xgb.train(params, fit_matrix, num_boost_round=MAX_ROUNDS, evals=[(validation_matrix, "validation")],
                          callbacks=[stopping], verbose_eval=False)
    rounds = evaluated.best_iteration + 1
    predicted = evaluated.predict(validation_matrix, iteration_range=(0, rounds)).astype("float64")
    del fit_matrix  # the validation matrix has the same bin edges: the window takes them from it
    reference.fix_edges()
    window_matrix = binned_matrix(files, window_weeks, spec, bins_of=validation_matrix, first_pass=reference.count)
    del validation_matrix
    booster = xgb.train(params, window_matrix, num_boost_round=rounds)
    validation = validation_scores(files, validation_week, predicted)
    labels = validation.column(LABEL_COLUMN).to_numpy()
    halves = in_calibration_half(validation.column("customer_id").to_pylist())
    calibration, calibrated, briers = choose_calibration(labels, predicted, halves)
    validation = validation.set_column(validation.schema.get_field_index("churn_probability"), "churn_probability",
                                       pa.array(calibrated))
    metrics = {
        "model_version": run.model_version,
        "run_date": run.run_date.isoformat(),
        **quality_metrics(labels, calibrated),
        "bayes_auc": reference_auc(services.storage, validation.to_pandas(), validation_week,
                                   run.churn_horizon_weeks),
        "calibration": calibration.method,
        "brier_uncalibrated": briers["none"],
        "validation_week": validation_week.isoformat(),
        "first_training_week": window_weeks[0].isoformat(),
        "training_weeks": len(window_weeks),
        "rows_trained": int(window_matrix.num_row()),
        "rows_validated": int(len(labels)),
        "best_iteration": rounds - 1,
        "churn_horizon_weeks": run.churn_horizon_weeks,
    }
    opponent = champion.opponent(services.storage, run)
    opponent_auc = _champion_auc(services.storage, opponent, files, validation_week, labels) if opponent else None
    metrics |= champion.decide(run, metrics["auc"], opponent, opponent_auc,
                               services.settings.champion_auc_tolerance).to_metrics()
    metrics |= {"feature_importance": feature_importance(booster),
                "drift_reference": reference.to_dict()}
    ModelStore(services.storage).save(
        StoredModel(run.model_version, bytes(booster.save_raw("ubj")), spec, {**params, "rounds": rounds}, metrics,
                    calibration), validation)
    logger.info("trained model %s: validation AUC %.4f on %s, %d trees, %d rows over %d weeks; calibration %s "
                "(cross-fitted Brier: %s)", run.model_version, metrics["auc"], validation_week, rounds,
                metrics["rows_trained"], len(window_weeks), calibration.method,
                ", ".join(f"{name} {value:.5f}" for name, value in briers.items()))
    return metrics


IMPORTANCE_KEPT = 30


def feature_importance(booster: xgb.Booster) -> list[dict]:
    """The features by their share of the model's total gain (the report's global importance), largest first."""
    gain = booster.get_score(importance_type="total_gain")
    total = sum(gain.values()) or 1.0
    ranked = sorted(gain.items(), key=lambda item: -item[1])[:IMPORTANCE_KEPT]
    return [{"feature": name, "share": value / total} for name, value in ranked]


class _DriftReference:
    """Each numeric feature's decile edges (of the validation week) and the window's rows per bin, for the PSI,
    taken from the matrices the binned matrices are built from (no pass of their own over the rows)."""

    def __init__(self, spec: FeatureSpec):
        self.spec = spec
        self.validation: list[np.ndarray] = []
        self.edges: dict[str, list[float]] = {}
        self.counts: dict[str, list[int]] = {}

    def keep(self, matrix: np.ndarray) -> None:
        self.validation.append(matrix[::drift.SAMPLE_STEP, :len(self.spec.numeric)].copy())

    def fix_edges(self) -> None:
        self.edges = drift.bin_edges(np.concatenate(self.validation), self.spec)
        self.validation = []

    def count(self, matrix: np.ndarray) -> None:
        self.counts = drift.add_counts(self.counts, drift.bin_counts(matrix, self.spec, self.edges))

    def to_dict(self) -> dict:
        return {"edges": self.edges, "counts": self.counts}


def _champion_auc(storage: Storage, opponent: champion.Champion, files: WeekFiles, validation_week: dt.date,
                  labels: np.ndarray) -> float | None:
    """The champion's AUC on this run's validation week, scored as inference would score it (None if its model
    cannot be read: then there is no champion to beat, and the reason is logged)."""
    try:
        booster, model = load_booster(ModelStore(storage), opponent.model_version)
    except ModelStoreError as error:
        logger.warning("champion %s cannot be compared: %s", opponent.model_version, error)
        return None
    scorer = Scorer(booster, model, opponent.model_version)
    scores = [scorer.probability(feature_matrix(rows, scorer.features))
              for rows in rows_of_weeks(files, [validation_week])]
    return float(roc_auc_score(labels, np.concatenate(scores)))


def validation_scores(files: WeekFiles, validation_week: dt.date, predicted: np.ndarray) -> pa.Table:
    """customer_id, churned and the evaluation model's churn_probability of the validation week (rows in the
    order the validation matrix was fed)."""
    rows = pa.Table.from_batches(list(rows_of_weeks(files, [validation_week], columns=["customer_id", LABEL_COLUMN])))
    return rows.append_column("churn_probability", pa.array(predicted))
