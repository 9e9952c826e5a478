"""The fairness study: consecutive runs compare each new model with the champion on rows neither trained on."""
import pytest

from tools.research.challenger_fairness import consecutive_runs, summary


def test_the_summary_counts_only_the_runs_that_had_a_champion():
    rows = [{"difference": None, "fair": False, "promoted": True},
            {"difference": 0.004, "fair": True, "promoted": True},
            {"difference": -0.002, "fair": True, "promoted": True},
            {"difference": -0.009, "fair": True, "promoted": False}]
    found = summary(rows)
    assert (found["compared"], found["challenger_ahead"], found["not_promoted"]) == (3, 1, 1)
    assert found["mean"] == pytest.approx(-0.007 / 3)
    assert found["stdev"] == pytest.approx(0.0065064, rel=1e-4)


@pytest.mark.slow
def test_each_run_after_the_first_is_compared_with_the_week_befores_model(home):
    first, second = consecutive_runs(customers=800, weeks=7, runs=2, seed=3)
    assert not first["fair"] and first["promoted"]  # no champion yet
    assert second["fair"] and second["difference"] == pytest.approx(second["auc"] - second["champion_auc"])
