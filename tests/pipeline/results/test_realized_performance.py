"""Realized performance: the scores published a horizon ago, judged in SQL against the labels complete now, equal
the same figures computed by hand (scikit-learn and pipeline.model.quality) on a small panel."""
import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from pipeline.execution.identity import Run
from pipeline.model.quality import expected_calibration_error, quality_metrics
from pipeline.results.realized_performance import realize, realized_of_execution
from pipeline.warehouse.layout import attempt_prefix
from pipeline.warehouse.objects import write_parquet
from pipeline.warehouse.tables import table
from tests.conftest import land_weeks, week

HORIZON = 2
CUSTOMERS = [f"c{index:03d}" for index in range(80)]


def panel(services) -> dict[str, int]:
    """Week 1 scored; weeks 2 and 3 decide its labels. The churned label of each customer, as defined."""
    rng = np.random.default_rng(3)
    sessions = {customer: [int(rng.integers(0, 4)), *(None if rng.random() < 0.2 else int(rng.integers(0, 2))
                                                      for _ in range(HORIZON))] for customer in CUSTOMERS}
    land_weeks(services, sessions)
    return {customer: int(not any(later for later in weeks[1:])) for customer, weeks in sessions.items()}


def publish_scores(services, probability: dict[str, float], model_version: str = "v-week-1") -> None:
    rows = pa.table({"customer_id": list(probability), "churn_probability": list(probability.values()),
                     "risk_band": ["low"] * len(probability), "model_version": [model_version] * len(probability),
                     "snapshot_date": [week(1)] * len(probability)}, schema=table("predictions").arrow_schema())
    prefix = attempt_prefix("predictions", week(1), "week-1")
    write_parquet(services.storage, f"{prefix}part-0.parquet", rows)
    services.catalog.put_partition(table("predictions"), week(1).isoformat(), services.storage.uri(prefix))


def a_run(run_week: int) -> Run:
    return Run(run_date=week(run_week), churn_horizon_weeks=HORIZON, model_version="v", execution_name="now")


def test_the_realized_figures_equal_a_hand_computation(services):
    churned = panel(services)
    rng = np.random.default_rng(4)
    # scores in steps of 0.05: many ties, which count as one threshold
    probability = {customer: round(float(rng.random()) * 20) / 20 * 0.98 + 0.01 for customer in CUSTOMERS}
    publish_scores(services, probability)

    row = realize(services, a_run(1 + HORIZON))

    labels = np.array([churned[customer] for customer in CUSTOMERS])  # by customer_id: the SQL's tie-break
    scores = np.array([probability[customer] for customer in CUSTOMERS])
    assert 0 < labels.sum() < len(labels)
    assert (row["scored_week"], row["model_version"]) == (week(1), "v-week-1")
    assert (row["customers"], row["churners"]) == (80, labels.sum())
    assert row["base_rate"] == pytest.approx(labels.mean())
    assert row["auc"] == pytest.approx(roc_auc_score(labels, scores))
    assert row["pr_auc"] == pytest.approx(average_precision_score(labels, scores))
    assert row["brier"] == pytest.approx(brier_score_loss(labels, scores))
    assert row["ece"] == pytest.approx(expected_calibration_error(labels, scores))
    assert row["lift_top_decile"] == pytest.approx(quality_metrics(labels, scores)["lift_top_decile"])
    assert realized_of_execution(services, a_run(1 + HORIZON)) == row | {"churn_horizon_weeks": HORIZON,
                                                                         "execution_name": "now"}


def test_with_no_scores_published_a_horizon_back_there_is_nothing_to_realize(services):
    panel(services)
    assert realize(services, a_run(1 + HORIZON)) is None  # week 1 was never published
    assert realized_of_execution(services, a_run(1 + HORIZON)) is None  # and the folder says so, with no row
