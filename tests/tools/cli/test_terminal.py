from rich.console import Console

from local_runtime.asl import StateEvent
from tools.cli.terminal import metrics_line, realized_line, summary_table

METRICS = {"validation_week": "2026-02-23", "auc": 0.8695, "log_loss": 0.3004, "base_rate": 0.17}


def test_the_metrics_line_sets_the_auc_beside_its_ceiling_when_known():
    assert metrics_line({**METRICS, "bayes_auc": 0.8856}) == (
        "Holdout customers of 2026-02-23: AUC 0.8695, true-state AUC 0.8856 (gap +0.0161), log loss 0.3004, "
        "churn base rate 17.0%")
    assert "Bayes" not in metrics_line({**METRICS, "bayes_auc": None})


def test_the_realized_line_names_the_week_judged_or_says_there_is_none_yet():
    run = {"run_date": "2026-03-23", "churn_horizon_weeks": 4}
    assert realized_line(run, 0.8671) == ("Realized: the scores published for 2026-02-23 had AUC 0.8671 against "
                                          "their labels")
    assert realized_line(run, None).startswith("Realized: nothing yet, no scores were published for 2026-02-23")


def test_the_summary_has_a_row_per_finished_state_with_its_rows_in_and_out():
    finished = {name: StateEvent(name, "Task", 0.0, seconds, "succeeded")
                for name, seconds in (("Cleanup", 0.1), ("PrepareData", 4.0), ("Training", 27.5))}
    output = {"cleanup": {"files_removed": 3},
              "prepared": {"snapshot_rows": 1_200_000, "weeks_available": 12, "training_rows": 800_000,
                           "scoring_rows": 100_000, "shard_count": 2},
              "published": {"rows_published": 100_000}}
    console = Console(width=200, record=True)
    console.print(summary_table(finished, output, {**METRICS, "rows_trained": 800_000, "model_version": "v1",
                                                   "best_iteration": 35}))
    text = console.export_text()
    assert "3 stale file(s) removed" in text and "1,200,000 snapshot rows (12 weeks)" in text
    assert "model v1, 36 trees" in text and "27.5" in text
