"""Training (Fargate): fit the weekly XGBoost model with a time-based validation week (see pipeline.model.fit),
calibrate it, compare it with the champion and store it with its metrics."""
from __future__ import annotations

import datetime as dt
import logging
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.errors import DataQualityError
from pipeline.execution.identity import Run
from pipeline.execution.week_lock import hold_week
from pipeline.execution.work import check_inputs
from pipeline.model import champion
from pipeline.model.drift import DriftReference
from pipeline.model.features import LABEL_COLUMN, TRAINING_WEEK_COLUMN, fit_feature_spec
from pipeline.model.fit import WeekFiles, feature_importance, fit, rows_of_weeks
from pipeline.model.quality import choose_calibration, in_calibration_half, quality_metrics
from pipeline.model.reference_scores import reference_auc
from pipeline.model.scorer import stored_model_auc
from pipeline.model.store import ModelStore, StoredModel
from pipeline.warehouse.layout import training_prefix
from pipeline.warehouse.objects import data_keys_by_partition, local_copies, newest_attempt, parquet_batches
from pipeline.warehouse.ports import Services

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelCount:
    rows: int
    churned: int

    @staticmethod
    def total(counts: Iterable[LabelCount]) -> LabelCount:
        counts = list(counts)
        return LabelCount(sum(count.rows for count in counts), sum(count.churned for count in counts))


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


def train(services: Services, run: Run) -> dict:
    """Measure on the validation week with a model fitted on older weeks (early stopping picks the rounds), then
    fit the published model on every week of the training window with that many rounds."""
    hold_week(services, run)
    check_inputs(services, run)
    training_set = newest_attempt(services.storage, training_prefix(run))
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
    drift_reference = DriftReference(spec)
    fitted = fit(files, fit_weeks, validation_week, spec, drift_reference)
    predicted = fitted.validation_predicted
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
        "rows_trained": fitted.rows_trained,
        "rows_validated": int(len(labels)),
        "best_iteration": fitted.rounds - 1,
        "churn_horizon_weeks": run.churn_horizon_weeks,
    }
    opponent = champion.opponent(services.storage, run)
    # The champion scored on this run's validation week: with no readable model, there is none to beat
    opponent_auc = stored_model_auc(ModelStore(services.storage), opponent.model_version,
                                    rows_of_weeks(files, [validation_week]), labels) if opponent else None
    metrics |= champion.decide(run, metrics["auc"], opponent, opponent_auc,
                               services.settings.champion_auc_tolerance).to_metrics()
    metrics |= {"feature_importance": feature_importance(fitted.booster),
                "drift_reference": drift_reference.to_dict()}
    ModelStore(services.storage).save(
        StoredModel(run.model_version, bytes(fitted.booster.save_raw("ubj")), spec,
                    {**fitted.params, "rounds": fitted.rounds}, metrics, calibration), validation)
    logger.info("trained model %s: validation AUC %.4f on %s, %d trees, %d rows over %d weeks; calibration %s "
                "(cross-fitted Brier: %s)", run.model_version, metrics["auc"], validation_week, fitted.rounds,
                metrics["rows_trained"], len(window_weeks), calibration.method,
                ", ".join(f"{name} {value:.5f}" for name, value in briers.items()))
    return metrics


def validation_scores(files: WeekFiles, validation_week: dt.date, predicted: np.ndarray) -> pa.Table:
    """customer_id, churned and the evaluation model's churn_probability of the validation week (rows in the
    order the validation matrix was fed)."""
    rows = pa.Table.from_batches(list(rows_of_weeks(files, [validation_week], columns=["customer_id", LABEL_COLUMN])))
    return rows.append_column("churn_probability", pa.array(predicted))
