"""Training's parts: the week split, the batch-fed binned matrices and the reference (true-state) AUC."""
import datetime as dt
import functools

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.errors import DataQualityError
from pipeline.keys import reference_scores_key
from pipeline.features import fit_feature_spec
from pipeline.stages import training
from pipeline.stages.training import (LabelCount, binned_matrix, count_labels, reference_auc, rows_of_weeks,
                                      split_by_week)
from pipeline.storage import parquet_batches, write_parquet
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


def counts(*weeks: tuple[int, int, int]) -> dict[dt.date, LabelCount]:
    """(weeks back, rows, churned rows) per week."""
    return {weeks_back(offset)[0]: LabelCount(rows, churned) for offset, rows, churned in weeks}


def test_fit_weeks_end_a_full_horizon_before_the_validation_week():
    fit_weeks, validation_week = split_by_week(counts((3, 2, 1), (2, 2, 1), (1, 2, 1), (0, 2, 1)),
                                               churn_horizon_weeks=2)
    assert validation_week == WEEK
    assert fit_weeks == weeks_back(3, 2)  # week -1's labels would look at week 0+


def test_a_week_with_one_class_only_is_refused():
    with pytest.raises(DataQualityError, match="training weeks: every row has churned=0"):
        split_by_week(counts((2, 2, 0), (0, 2, 1)), churn_horizon_weeks=2)
    with pytest.raises(DataQualityError, match=f"validation week {WEEK}: every row has churned=1"):
        split_by_week(counts((2, 2, 1), (0, 2, 2)), churn_horizon_weeks=2)


def test_too_few_weeks_to_keep_fit_and_validation_labels_apart_is_refused():
    with pytest.raises(DataQualityError, match="no labelled week on or before"):
        split_by_week(counts((1, 2, 1), (0, 2, 1)), churn_horizon_weeks=2)


def write_week_files(tmp_path, weeks: dict[dt.date, pa.Table]) -> dict[dt.date, list[str]]:
    files = {}
    for week, rows in weeks.items():
        path = tmp_path / f"{week}.parquet"
        pq.write_table(rows, path, row_group_size=3)
        files[week] = [str(path)]
    return files


def test_labels_are_counted_per_week_from_the_files(tmp_path):
    files = write_week_files(tmp_path, {WEEK: pa.table({"churned": [1, 0, 0, 1, 1]}),
                                        weeks_back(1)[0]: pa.table({"churned": [0, 0]})})
    assert count_labels(files) == {WEEK: LabelCount(5, 3), weeks_back(1)[0]: LabelCount(2, 0)}


def test_the_binned_matrix_holds_the_chosen_weeks_rows_with_their_weights(tmp_path, monkeypatch):
    def week_rows(sessions: list[int], weight: float) -> pa.Table:
        return pa.table({"customer_id": [f"c{value}" for value in sessions], "sessions_7d": sessions,
                         "plan": ["free", "gold"] * (len(sessions) // 2), "churned": [value % 2 for value in sessions],
                         "sample_weight": [weight] * len(sessions)})

    files = write_week_files(tmp_path, {weeks_back(1)[0]: week_rows([0, 1, 2, 3, 4, 5, 6, 7], 2.0),
                                        WEEK: week_rows([8, 9], 1.0)})
    spec = fit_feature_spec(rows_of_weeks(files, sorted(files)))
    monkeypatch.setattr(training, "parquet_batches", functools.partial(parquet_batches, batch_rows=3))
    fitted = binned_matrix(files, weeks_back(1), spec)  # fed in three batches
    assert fitted.num_row() == 8 and fitted.get_weight().tolist() == [2.0] * 8
    assert fitted.get_label().tolist() == [0, 1] * 4
    validated = binned_matrix(files, [WEEK], spec, bins_of=fitted)
    assert validated.num_row() == 2 and validated.feature_names == spec.names == ["sessions_7d", "plan"]
