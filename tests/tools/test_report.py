from tools.report import metrics_line

METRICS = {"validation_week": "2026-02-23", "auc": 0.8695, "log_loss": 0.3004, "base_rate": 0.17}


def test_the_metrics_line_sets_the_auc_beside_its_ceiling_when_known():
    assert metrics_line({**METRICS, "bayes_auc": 0.8856}) == (
        "Validation week 2026-02-23: AUC 0.8695, Bayes-optimal AUC 0.8856 (gap +0.0161), log loss 0.3004, "
        "churn base rate 17.0%")
    assert "Bayes" not in metrics_line({**METRICS, "bayes_auc": None})
