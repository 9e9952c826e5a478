"""Training's own parts: the labels counted and the classes checked."""
import datetime as dt

import pyarrow as pa
import pytest

from local_runtime.host import install_local_host
from pipeline.core.errors import DataQualityError
from pipeline.model.fit import TrainingFiles
from pipeline.stages.training import LabelCount, check_both_classes, count_labels
from tests.conftest import week
from tests.pipeline.model.test_champion import a_run, run_week
from tests.pipeline.model.test_fit import write_week_files
from tools.synthetic.panel import land_synthetic_panel

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


@pytest.mark.slow
def test_a_capped_training_set_fits_on_about_the_cap_and_is_judged_on_the_whole_holdout(services, monkeypatch):
    land_synthetic_panel(services, 1500, 12, seed=11, if_missing=False)
    uncapped = run_week(services, a_run(week(11), "uncapped"))
    monkeypatch.setenv("MAX_TRAINING_ROWS", "2000")
    capped = run_week(install_local_host(), a_run(week(12), "capped"))
    assert uncapped["rows_before_cap"] == uncapped["rows_trained"] > 4000
    assert capped["rows_before_cap"] > 4000 and capped["rows_trained"] == pytest.approx(2000, rel=0.1)
    assert capped["row_cap_rates"]["churned"] > capped["row_cap_rates"]["retained"]  # the rarer class kept more
    assert capped["rows_validated"] == pytest.approx(uncapped["rows_validated"], rel=0.1)  # the holdout: not capped
    assert capped["auc"] > 0.75
