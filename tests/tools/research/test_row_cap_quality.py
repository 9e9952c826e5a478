"""The row-cap study on a tiny panel: each cap's run keeps about the cap, and all are judged on the same holdout."""
import pytest

from tools.research.row_cap_quality import UNCAPPED, measure


@pytest.mark.slow
def test_each_cap_trains_about_its_rows_and_the_uncapped_run_comes_last(home, monkeypatch):
    monkeypatch.setenv("MAX_TRAINING_ROWS", str(UNCAPPED))  # the study sets it for each run: undone after the test
    capped, uncapped = measure(customers=1500, weeks=9, seed=3, caps=[2000])
    assert (capped["cap"], uncapped["cap"]) == (2000, UNCAPPED)
    assert capped["rows_before_cap"] == uncapped["rows_before_cap"] == uncapped["rows_trained"] > 4000
    assert capped["rows_trained"] == pytest.approx(2000, rel=0.1)
    assert 0.6 < capped["auc"] <= 1 and 0.6 < uncapped["auc"] <= 1
    assert capped["peak_rss_mib"] > 50 and capped["cpu_seconds"] > 0  # its task's own log, XGBoost loaded
