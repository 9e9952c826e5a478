"""Training (Fargate): fit the weekly XGBoost model once, judged on the holdout customers' newest labelled week
(see pipeline.model.holdout), calibrate it there, compare it with the champion on the same rows and store it
with its metrics."""
from __future__ import annotations

import datetime as dt
import logging
from contextlib import ExitStack
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.errors import DataQualityError, ModelStoreError
from pipeline.execution.identity import Run
from pipeline.execution.week_lock import hold_week
from pipeline.execution.work import check_inputs
from pipeline.model import champion
from pipeline.model.drift import DriftReference
from pipeline.model.features import LABEL_COLUMN, PATTERN_COLUMNS, TRAINING_PART_COLUMN, fit_feature_spec
from pipeline.model.fit import TrainingFiles, feature_importance, fit
from pipeline.model.holdout import HOLDOUT_PART, HOLDOUT_SHARE
from pipeline.model.quality import choose_calibration, in_calibration_half, quality_metrics, stored_model_auc
from pipeline.model.reference_scores import reference_auc
from pipeline.model.repeat_purchase.baselines import baseline_aucs
from pipeline.model.row_cap import keep_rates
from pipeline.model.store import ModelStore, StoredModel
from pipeline.warehouse.layout import training_prefix
from pipeline.warehouse.objects import data_keys_by_partition, local_copies, newest_attempt, parquet_batches
from pipeline.warehouse.ports import Services

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelCount:
    rows: int
    churned: int


def count_labels(paths: list[str]) -> LabelCount:
    """Rows and churned rows of some files, reading only the label column."""
    labels = [batch.column(LABEL_COLUMN) for batch in parquet_batches(paths, columns=[LABEL_COLUMN])]
    return LabelCount(sum(len(column) for column in labels), sum(pc.sum(column).as_py() or 0 for column in labels))


def check_both_classes(files: TrainingFiles) -> LabelCount:
    """A model needs churned and retained customers to learn from, and both among the holdout to be judged on;
    the fitted rows' count."""
    fitted = _counted_with_both_classes("the fitted weeks", files.fitted)
    _counted_with_both_classes(f"the holdout customers of {files.validation_week}", files.holdout)
    return fitted


def _counted_with_both_classes(name: str, paths: list[str]) -> LabelCount:
    counted = count_labels(paths)
    if counted.rows == 0:
        raise DataQualityError(f"{name}: no rows (the holdout is {HOLDOUT_SHARE:.0%} of customers: are there "
                               "too few customers to hold some out?)")
    if counted.churned in (0, counted.rows):
        raise DataQualityError(f"{name}: every row has churned={int(counted.churned > 0)}; "
                               "a model needs both churned and retained customers")
    return counted


def train(services: Services, run: Run) -> dict:
    """Fit once on the window's fitted rows (the holdout stops it), calibrate on the holdout, compare with the
    champion on the holdout and store the model."""
    hold_week(services, run)
    check_inputs(services, run)
    training_set = newest_attempt(services.storage, training_prefix(run))
    keys = data_keys_by_partition(services.storage, training_set, TRAINING_PART_COLUMN)
    with ExitStack() as stack:
        holdout = stack.enter_context(local_copies(services.storage, keys.pop(HOLDOUT_PART, [])))
        weeks = {dt.date.fromisoformat(week): stack.enter_context(local_copies(services.storage, week_keys))
                 for week, week_keys in sorted(keys.items())}
        if not weeks:
            raise DataQualityError(f"the training set at {services.storage.uri(training_set)} has no fitted week")
        return _train_on(services, run, TrainingFiles(weeks, holdout))


def _train_on(services: Services, run: Run, files: TrainingFiles) -> dict:
    fitted_rows = check_both_classes(files)
    rates = keep_rates(fitted_rows.churned, fitted_rows.rows, services.settings.max_training_rows)
    validation_week = files.validation_week
    spec = fit_feature_spec(parquet_batches(files.fitted))
    drift_reference = DriftReference(spec)
    fitted = fit(files, spec, drift_reference, rates)
    predicted = fitted.holdout_predicted
    validation = holdout_scores(files, predicted)
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
        **repeat_purchase_aucs(files, labels, run.churn_horizon_weeks),
        "calibration": calibration.method,
        "brier_uncalibrated": briers["none"],
        "validation_week": validation_week.isoformat(),
        "holdout_share": HOLDOUT_SHARE,
        "first_training_week": min(files.weeks).isoformat(),
        "training_weeks": len(files.weeks),
        "rows_trained": fitted.rows_trained,
        "rows_before_cap": fitted_rows.rows,
        "row_cap_rates": {"churned": rates.churned, "retained": rates.retained},
        "rows_validated": int(len(labels)),
        "best_iteration": fitted.rounds - 1,
        "churn_horizon_weeks": run.churn_horizon_weeks,
    }
    opponent = champion.opponent(services.storage, run)
    opponent_auc = _champion_auc(ModelStore(services.storage), opponent, files, labels) if opponent else None
    metrics |= champion.decide(run, metrics["auc"], opponent, opponent_auc,
                               services.settings.champion_auc_tolerance).to_metrics()
    metrics |= {"feature_importance": feature_importance(fitted.booster),
                "drift_reference": drift_reference.to_dict()}
    ModelStore(services.storage).save(
        StoredModel(run.model_version, bytes(fitted.booster.save_raw("ubj")), spec,
                    {**fitted.params, "rounds": fitted.rounds}, metrics, calibration), validation)
    logger.info("trained model %s: holdout AUC %.4f on %s, %d trees, %d rows over %d weeks; calibration %s "
                "(cross-fitted Brier: %s)", run.model_version, metrics["auc"], validation_week, fitted.rounds,
                metrics["rows_trained"], len(files.weeks), calibration.method,
                ", ".join(f"{name} {value:.5f}" for name, value in briers.items()))
    return metrics


def _champion_auc(store: ModelStore, opponent: champion.Champion, files: TrainingFiles,
                  labels: np.ndarray) -> float | None:
    """The champion's AUC on the holdout rows, scored as inference would score them; None when it is no fair
    opponent: it held out another share of customers (or none), so it trained on some of these."""
    try:
        held_out = store.metrics(opponent.model_version).get("holdout_share")
    except ModelStoreError as error:
        logger.warning("champion %s cannot be read: %s", opponent.model_version, error)
        return None
    if held_out != HOLDOUT_SHARE:
        logger.warning("champion %s held out %s of customers, not %s: it trained on some of this week's holdout, "
                       "so the new model is promoted without a comparison", opponent.model_version,
                       "none" if held_out is None else f"{held_out:.0%}", f"{HOLDOUT_SHARE:.0%}")
        return None
    return stored_model_auc(store, opponent.model_version, parquet_batches(files.holdout), labels)


def repeat_purchase_aucs(files: TrainingFiles, labels: np.ndarray, horizon_weeks: int) -> dict[str, float | None]:
    """BG/BB's and Pareto/NBD's AUC on the holdout rows (pipeline.model.repeat_purchase), fitted on the holdout
    customers' activity patterns, in the order of `labels`."""
    rows = pa.Table.from_batches(list(parquet_batches(files.holdout, columns=list(PATTERN_COLUMNS))))
    return baseline_aucs(*(rows.column(name).to_numpy() for name in PATTERN_COLUMNS), labels, horizon_weeks)


def holdout_scores(files: TrainingFiles, predicted: np.ndarray) -> pa.Table:
    """customer_id, churned and the booster's churn_probability of the holdout rows (in the order the holdout
    matrix was fed)."""
    rows = pa.Table.from_batches(list(parquet_batches(files.holdout, columns=["customer_id", LABEL_COLUMN])))
    return rows.append_column("churn_probability", pa.array(predicted))
