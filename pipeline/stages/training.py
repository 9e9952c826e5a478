"""Training (Fargate): fit the weekly XGBoost model with a time-based validation week; store it with its metrics."""
from __future__ import annotations

import datetime as dt
import logging
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import xgboost as xgb
from sklearn.metrics import log_loss, roc_auc_score

from pipeline.errors import DataQualityError
from pipeline.features import LABEL_COLUMN, feature_matrix, fit_feature_spec
from pipeline.keys import reference_scores_key, training_prefix
from pipeline.model_store import ModelStore, StoredModel
from pipeline.ports import Services, Storage
from pipeline.run import Run
from pipeline.week_lock import hold_week
from pipeline.storage import read_parquet

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


def split_by_week(labelled: pd.DataFrame, churn_horizon_weeks: int) -> tuple[pd.DataFrame, pd.DataFrame, dt.date]:
    """(evaluation-fit rows, validation rows, validation week), the way the model is used: validate on the newest
    labelled week, fit on weeks at least churn_horizon_weeks older, so that no fitted label looks at the weeks
    the validation labels come from (as at scoring time, when the future is unknown)."""
    validation_week = labelled["snapshot_date"].max()
    newest_fit_week = validation_week - dt.timedelta(weeks=churn_horizon_weeks)
    fit_rows = labelled[labelled["snapshot_date"] <= newest_fit_week]
    validation_rows = labelled[labelled["snapshot_date"] == validation_week]
    if fit_rows.empty:
        raise DataQualityError(f"no labelled week on or before {newest_fit_week} to fit on (validation week "
                               f"{validation_week}, churn_horizon_weeks={churn_horizon_weeks})")
    for name, rows in (("training weeks", fit_rows), (f"validation week {validation_week}", validation_rows)):
        if rows[LABEL_COLUMN].nunique() < 2:
            raise DataQualityError(f"{name}: every row has churned={rows[LABEL_COLUMN].iloc[0]}; "
                                   "a model needs both churned and retained customers")
    return fit_rows, validation_rows, validation_week


def _matrix(features: pd.DataFrame, labels: pd.Series, reference: xgb.QuantileDMatrix | None = None):
    # QuantileDMatrix bins the features once, without a float copy of the data: less memory, faster.
    return xgb.QuantileDMatrix(features, label=labels, enable_categorical=True, ref=reference)


def reference_auc(storage: Storage, validation: pd.DataFrame, validation_week: dt.date,
                  churn_horizon_weeks: int) -> float | None:
    """AUC of the week's reference scores, when someone knows the true probabilities: on synthetic data the
    generator does, so this is the ceiling any model could reach (the Bayes-optimal AUC).

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
    fit the published model on every labelled week with that many rounds."""
    # Arrow buffers are freed column by column as pandas takes them, and the raw rows are dropped once the
    # compact float32 feature matrix exists: peak memory is what lets a week of millions fit one task.
    hold_week(services, run)
    churn_horizon_weeks = run.churn_horizon_weeks
    labelled = read_parquet(services.storage, training_prefix(run.run_date)).to_pandas(self_destruct=True)
    # The SQL engine writes rows in no fixed order; row sampling depends on it, so fix it for repeatable models.
    labelled = labelled.sort_values(["snapshot_date", "customer_id"], ignore_index=True)
    fit_rows, validation_rows, validation_week = split_by_week(labelled[["snapshot_date", LABEL_COLUMN]],
                                                               churn_horizon_weeks)
    validation_rows = labelled.loc[validation_rows.index, ["customer_id", LABEL_COLUMN]]
    spec = fit_feature_spec(labelled)
    features, all_labels = feature_matrix(labelled, spec), labelled[LABEL_COLUMN]
    del labelled
    params = {**BOOSTER_PARAMS, "nthread": os.cpu_count() or 1}
    fit_matrix = _matrix(features.loc[fit_rows.index], fit_rows[LABEL_COLUMN])
    validation_matrix = _matrix(features.loc[validation_rows.index], validation_rows[LABEL_COLUMN], fit_matrix)
    evaluated = xgb.train(params, fit_matrix, num_boost_round=MAX_ROUNDS, evals=[(validation_matrix, "validation")],
                          early_stopping_rounds=EARLY_STOPPING_ROUNDS, verbose_eval=False)
    rounds = evaluated.best_iteration + 1
    predicted = evaluated.predict(validation_matrix, iteration_range=(0, rounds))
    del fit_matrix, validation_matrix  # memory for the final fit
    booster = xgb.train(params, _matrix(features, all_labels), num_boost_round=rounds)
    labels = validation_rows[LABEL_COLUMN].to_numpy()
    validation = validation_rows.assign(churn_probability=predicted.astype("float64"))
    metrics = {
        "model_version": run.model_version,
        "run_date": run.run_date.isoformat(),
        "auc": float(roc_auc_score(labels, predicted)),
        "bayes_auc": reference_auc(services.storage, validation, validation_week, churn_horizon_weeks),
        "log_loss": float(log_loss(labels, np.clip(predicted, 1e-7, 1 - 1e-7))),
        "base_rate": float(labels.mean()),
        "validation_week": validation_week.isoformat(),
        "rows_trained": int(len(features)),
        "rows_validated": int(len(validation_rows)),
        "best_iteration": rounds - 1,
        "churn_horizon_weeks": churn_horizon_weeks,
    }
    ModelStore(services.storage).save(
        StoredModel(run.model_version, bytes(booster.save_raw("ubj")), spec, {**params, "rounds": rounds}, metrics),
        pa.Table.from_pandas(validation, preserve_index=False))
    logger.info("trained model %s: validation AUC %.4f on %s, %d trees, %d rows", run.model_version,
                metrics["auc"], validation_week, rounds, len(features))
    return metrics
