"""The reference (true-state) AUC: known churn probabilities scored against the validation week, only when they
describe the week as it is landed and the run's horizon."""
import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from pipeline.model.reference_scores import reference_auc
from pipeline.warehouse.layout import reference_scores_key
from pipeline.warehouse.objects import write_parquet
from pipeline.warehouse.tables import table
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
