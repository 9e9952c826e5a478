"""Fit the weekly XGBoost model with a time-based validation week, and register it with its metrics."""
from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import log_loss, roc_auc_score

from pipeline.errors import DataQualityError
from pipeline.features import LABEL_COLUMN, FeatureSpec, feature_matrix, fit_feature_spec
from pipeline.land import truth_key
from pipeline.prepare import training_prefix
from pipeline.services import Services
from pipeline.storage import read_json, read_parquet, write_json

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


def model_prefix(model_version: str) -> str:
    return f"models/model_version={model_version}/"


def _split_by_week(training: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dt.date]:
    """Validate on the newest labelled week, train on the weeks before it: the way the model will be used."""
    validation_week = training["snapshot_date"].max()
    is_validation = training["snapshot_date"] == validation_week
    fit_rows, validation_rows = training[~is_validation], training[is_validation]
    for name, rows in (("training weeks", fit_rows), (f"validation week {validation_week}", validation_rows)):
        if rows[LABEL_COLUMN].nunique() < 2:
            raise DataQualityError(f"{name}: every row has churned={rows[LABEL_COLUMN].iloc[0]}; "
                                   "a model needs both churned and retained customers")
    return fit_rows, validation_rows, validation_week


def bayes_auc(services: Services, validation_rows: pd.DataFrame, validation_week: dt.date) -> float | None:
    """AUC of the generator's true probabilities on the validation week: the ceiling for any model."""
    key = truth_key(validation_week)
    if not services.storage.exists(key):
        return None  # real data: nobody knows the true probabilities
    truth = read_parquet(services.storage, key).to_pandas()
    joined = validation_rows[["customer_id", LABEL_COLUMN]].merge(truth, on="customer_id", how="inner")
    if len(joined) != len(validation_rows):
        return None  # the week was partly replaced by ingested data
    return float(roc_auc_score(joined[LABEL_COLUMN], joined["true_churn_probability"]))


def train_model(services: Services, run_date: dt.date, model_version: str, churn_horizon_weeks: int) -> dict:
    training = read_parquet(services.storage, training_prefix(run_date)).to_pandas()
    fit_rows, validation_rows, validation_week = _split_by_week(training)
    spec = fit_feature_spec(fit_rows)
    # QuantileDMatrix bins the features once, without a float copy of the data: less memory, faster.
    fit_matrix = xgb.QuantileDMatrix(feature_matrix(fit_rows, spec), label=fit_rows[LABEL_COLUMN],
                                     enable_categorical=True)
    validation_matrix = xgb.QuantileDMatrix(feature_matrix(validation_rows, spec),
                                            label=validation_rows[LABEL_COLUMN], enable_categorical=True,
                                            ref=fit_matrix)
    booster = xgb.train({**BOOSTER_PARAMS, "nthread": os.cpu_count() or 1}, fit_matrix,
                        num_boost_round=MAX_ROUNDS, evals=[(validation_matrix, "validation")],
                        early_stopping_rounds=EARLY_STOPPING_ROUNDS, verbose_eval=False)
    predicted = booster.predict(validation_matrix, iteration_range=(0, booster.best_iteration + 1))
    labels = validation_rows[LABEL_COLUMN].to_numpy()
    metrics = {
        "model_version": model_version,
        "run_date": run_date.isoformat(),
        "auc": float(roc_auc_score(labels, predicted)),
        "bayes_auc": bayes_auc(services, validation_rows, validation_week),
        "log_loss": float(log_loss(labels, np.clip(predicted, 1e-7, 1 - 1e-7))),
        "base_rate": float(labels.mean()),
        "validation_week": validation_week.isoformat(),
        "rows_trained": int(len(fit_rows)),
        "rows_validated": int(len(validation_rows)),
        "best_iteration": int(booster.best_iteration),
        "churn_horizon_weeks": churn_horizon_weeks,
    }
    save_model(services, model_version, booster, spec, metrics)
    return metrics


def save_model(services: Services, model_version: str, booster: xgb.Booster, spec: FeatureSpec,
               metrics: dict) -> None:
    prefix = model_prefix(model_version)
    services.storage.write_bytes(f"{prefix}model.ubj", bytes(booster.save_raw("ubj")))
    write_json(services.storage, f"{prefix}features.json", spec.to_dict())
    # metrics.json last: its presence means the model is complete.
    write_json(services.storage, f"{prefix}metrics.json", metrics)


def load_model(services: Services, model_version: str) -> tuple[xgb.Booster, FeatureSpec, dict]:
    prefix = model_prefix(model_version)
    metrics = read_json(services.storage, f"{prefix}metrics.json")
    booster = xgb.Booster()
    booster.load_model(bytearray(services.storage.read_bytes(f"{prefix}model.ubj")))
    spec = FeatureSpec.from_dict(read_json(services.storage, f"{prefix}features.json"))
    return booster, spec, metrics
