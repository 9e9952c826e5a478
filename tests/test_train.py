import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from pipeline.errors import DataQualityError
from pipeline.layout import truth_key
from pipeline.storage import write_parquet
from pipeline.train import bayes_auc, split_by_week

WEEK = dt.date(2026, 2, 2)
VALIDATION = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "churned": [1, 0, 1, 0]})


def land_truth(services, probabilities: list[float], horizon: int = 4) -> None:
    truth = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "true_churn_probability": probabilities,
                          "churn_horizon_weeks": horizon})
    write_parquet(services.storage, truth_key(WEEK), pa.Table.from_pandas(truth))


def test_bayes_auc_scores_the_true_probabilities(services):
    land_truth(services, [0.9, 0.2, 0.1, 0.3])
    assert bayes_auc(services, VALIDATION, WEEK, churn_horizon_weeks=4) == pytest.approx(0.5)


def test_bayes_auc_is_unknown_for_real_data_or_another_horizon(services):
    assert bayes_auc(services, VALIDATION, WEEK, churn_horizon_weeks=4) is None
    land_truth(services, [0.9, 0.2, 0.8, 0.3], horizon=4)
    assert bayes_auc(services, VALIDATION, WEEK, churn_horizon_weeks=2) is None


def weeks_back(*offsets: int) -> list[dt.date]:
    return [WEEK - dt.timedelta(weeks=offset) for offset in offsets]


def test_fit_weeks_end_a_full_horizon_before_the_validation_week():
    rows = pd.DataFrame({"snapshot_date": weeks_back(3, 3, 2, 2, 1, 1, 0, 0), "churned": [0, 1] * 4})
    fit_rows, validation_rows, validation_week = split_by_week(rows, churn_horizon_weeks=2)
    assert validation_week == WEEK and set(validation_rows["snapshot_date"]) == {WEEK}
    assert set(fit_rows["snapshot_date"]) == set(weeks_back(3, 2))  # week -1's labels would look at week 0+


def test_a_week_with_one_class_only_is_refused():
    rows = pd.DataFrame({"snapshot_date": weeks_back(2, 2, 0, 0), "churned": [0, 0, 1, 0]})
    with pytest.raises(DataQualityError, match="training weeks: every row has churned=0"):
        split_by_week(rows, churn_horizon_weeks=2)


def test_too_few_weeks_to_keep_fit_and_validation_labels_apart_is_refused():
    rows = pd.DataFrame({"snapshot_date": weeks_back(1, 1, 0, 0), "churned": [0, 1, 1, 0]})
    with pytest.raises(DataQualityError, match="no labelled week on or before"):
        split_by_week(rows, churn_horizon_weeks=2)
