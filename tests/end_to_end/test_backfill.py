"""Backfilling past weeks, twice, as an operator would."""
from tests.conftest import week
from tools.cli.app import main
from tools.synthetic.panel import land_synthetic_panel

CUSTOMERS, WEEKS = 400, 7  # with a 2-week horizon a run needs 3 weeks: weeks 3 to 7 can be run


def test_a_backfill_run_twice_leaves_one_set_of_results_per_week(services, monkeypatch, capsys):
    monkeypatch.setenv("CHURN_HORIZON_WEEKS", "2")
    land_synthetic_panel(services, CUSTOMERS, WEEKS, seed=5, if_missing=False)
    window = ["--from", week(5).isoformat(), "--to", week(WEEKS).isoformat()]
    assert main(["backfill", *window]) == 0
    assert "backfill done: 3 week(s) run, 0 skipped" in capsys.readouterr().out
    assert main(["backfill", *window]) == 0
    assert "3 week(s) already published, skipped" in capsys.readouterr().out

    assert main(["query", "SELECT run_date, count(*) AS n FROM engagement.model_metrics GROUP BY 1 ORDER BY 1",
                 "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["run_date,n", *(f"{week(i)},1" for i in (5, 6, 7))]
    assert main(["query", "SELECT count(*) AS n, count(DISTINCT run_date) AS weeks FROM engagement.predictions",
                 "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["n,weeks", f"{3 * CUSTOMERS},3"]


def test_a_backfill_stops_at_the_first_week_that_fails(services, monkeypatch, capsys):
    land_synthetic_panel(services, CUSTOMERS, WEEKS, seed=5, if_missing=False)  # a 4-week horizon: needs 5 weeks
    assert main(["backfill", "--from", week(4).isoformat(), "--to", week(WEEKS).isoformat()]) == 1
    err = capsys.readouterr().err
    assert "run failed in PrepareData" in err and f"backfill stopped at {week(4)}: 3 later week(s) not run" in err
