"""Training's own parts: the labels counted per week and the week split."""
import datetime as dt

import pyarrow as pa
import pytest

from pipeline.core.errors import DataQualityError
from pipeline.stages.training import LabelCount, count_labels, split_by_week
from tests.pipeline.model.test_fit import write_week_files

WEEK = dt.date(2026, 2, 2)  # week 5 of conftest's calendar


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


def test_labels_are_counted_per_week_from_the_files(tmp_path):
    files = write_week_files(tmp_path, {WEEK: pa.table({"churned": [1, 0, 0, 1, 1]}),
                                        weeks_back(1)[0]: pa.table({"churned": [0, 0]})})
    assert count_labels(files) == {WEEK: LabelCount(5, 3), weeks_back(1)[0]: LabelCount(2, 0)}
