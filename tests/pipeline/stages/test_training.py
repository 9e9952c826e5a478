"""Training's own parts: the labels counted and the classes checked."""
import datetime as dt

import pyarrow as pa
import pytest

from pipeline.core.errors import DataQualityError
from pipeline.model.fit import TrainingFiles
from pipeline.stages.training import LabelCount, check_both_classes, count_labels
from tests.pipeline.model.test_fit import write_week_files

WEEK = dt.date(2026, 2, 2)  # week 5 of conftest's calendar


def weeks_back(*offsets: int) -> list[dt.date]:
    return [WEEK - dt.timedelta(weeks=offset) for offset in offsets]


def test_the_fitted_weeks_and_the_holdout_each_need_both_classes(tmp_path):
    def files(fitted: list[int], holdout: list[int]) -> TrainingFiles:
        paths = write_week_files(tmp_path, {weeks_back(1)[0]: pa.table({"churned": fitted}),
                                            WEEK: pa.table({"churned": holdout})})
        return TrainingFiles({weeks_back(1)[0]: paths[weeks_back(1)[0]]}, paths[WEEK])

    check_both_classes(files([0, 1], [1, 0]))
    with pytest.raises(DataQualityError, match="the fitted weeks: every row has churned=0"):
        check_both_classes(files([0, 0], [1, 0]))
    with pytest.raises(DataQualityError, match=f"the holdout customers of {weeks_back(1)[0]}: every row has "
                                               "churned=1"):
        check_both_classes(files([0, 1], [1, 1]))
    with pytest.raises(DataQualityError, match="the holdout customers .*: no rows"):
        check_both_classes(files([0, 1], []))


def test_labels_are_counted_from_the_files(tmp_path):
    files = write_week_files(tmp_path, {WEEK: pa.table({"churned": [1, 0, 0, 1, 1]}),
                                        weeks_back(1)[0]: pa.table({"churned": [0, 0]})})
    assert count_labels([*files[WEEK], *files[weeks_back(1)[0]]]) == LabelCount(7, 3)
