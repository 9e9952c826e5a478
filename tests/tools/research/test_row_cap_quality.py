"""The row-cap study on a tiny panel: each cap's fit keeps about the cap, and all are judged on the same holdout."""
import pytest

from tools.research.row_cap_quality import UNCAPPED, measure


@pytest.mark.slow
def test_each_cap_fits_about_its_rows_and_the_uncapped_fit_comes_last(home):
    capped, uncapped = measure(customers=1500, weeks=9, seed=3, caps=[2000])
    assert (capped["cap"], uncapped["cap"]) == (2000, UNCAPPED)
    assert capped["rows_before_cap"] == uncapped["rows_before_cap"] == uncapped["rows_trained"] > 4000
    assert capped["rows_trained"] == pytest.approx(2000, rel=0.1)
    assert 0.6 < capped["auc"] <= 1 and 0.6 < uncapped["auc"] <= 1
    assert capped["peak_rss_mib"] > 50  # a process of its own, with XGBoost loaded
