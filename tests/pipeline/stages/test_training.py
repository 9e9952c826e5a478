"""Training's pure parts: the week split and the reference (Bayes-optimal) AUC."""
import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from pipeline.errors import DataQualityError
from pipeline.keys import reference_scores_key
from pipeline.stages.training import reference_auc, split_by_week
from pipeline.storage import write_parquet
from pipeline.tables import table
from tests.conftest import land_weeks

WEEK = dt.date(2026, 2, 2)  # week 5 of conftest's calendar
VALIDATION = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "churned": [1, 0, 1, 0],
                           "churn_probability": [0.6, 0.4, 0.6, 0.4]})


def land_reference(services, probabilities: list[float], horizon: int = 4, location: str | None = None) -> None:
    """Reference scores for WEEK, describing its current landing unless told otherwise."""
    landed = services.storage.key_of(services.catalog.partitions(table("snapshots"))[WEEK.isoformat()])
    scores = pa.table({"customer_id": ["a", "b", "c", "d"], "churn_probability": probabilities})
    write_parquet(services.storage, reference_scores_key(WEEK), scores.replace_schema_metadata(
        {"snapshot_key": location or landed, "churn_horizon_weeks": str(horizon)}))


def auc(services, horizon: int = 4) -> float | None:
    return reference_auc(services.storage, VALIDATION, WEEK, churn_horizon_weeks=horizon)


@pytest.fixture
def landed(services):
    land_weeks(services, {customer: [1] * 5 for customer in "abcd"})
    return services


def test_reference_auc_scores_the_known_probabilities(landed):
    land_reference(landed, [0.9, 0.2, 0.1, 0.3])
    assert auc(landed) == pytest.approx(0.5)


def test_reference_auc_is_unknown_for_real_data_another_horizon_or_a_relanded_week(landed):
    assert auc(landed) is None
    land_reference(landed, [0.9, 0.2, 0.8, 0.3], horizon=4)
    assert auc(landed) == pytest.approx(1.0)
    assert auc(landed, horizon=2) is None
    land_reference(landed, [0.9, 0.2, 0.8, 0.3], location="raw/snapshots/snapshot_date=2026-02-02/landed-gone/")
    assert auc(landed) is None


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
