"""The run report: the curves' points on small known inputs, the self-contained HTML page, and Publish's call that
writes it beside the results (or logs why it could not)."""
import base64
import datetime as dt
import logging
import re

import numpy as np
import pyarrow as pa
import pytest

from pipeline.execution.identity import Run
from pipeline.model.features import FeatureSpec
from pipeline.model.store import ModelStore, StoredModel
from pipeline.results import report
from pipeline.results.data_quality import held, record_checks, warning
from pipeline.results.report import calibration_points, precision_recall_points, render, roc_points, write_report
from pipeline.results.weekly_summary import SCORE_BIN
from pipeline.warehouse.layout import attempt_prefix, report_key
from pipeline.warehouse.objects import write_parquet
from pipeline.warehouse.tables import table

WEEK = dt.date(2026, 3, 2)
LABELS = np.array([1.0, 0.0, 1.0, 0.0])
SCORES = np.array([0.9, 0.8, 0.7, 0.1])
METRICS = {"model_version": "v7", "validation_week": "2026-02-02", "auc": 0.81234, "bayes_auc": 0.85,
           "pr_auc": 0.61111, "log_loss": 0.3, "brier": 0.12, "ece": 0.0234, "lift_top_decile": 2.5,
           "recall_top_decile": 0.25, "calibration": "platt", "rows_trained": 8000, "rows_scored": 1000}
PNG_IMAGE = re.compile(r'<img alt="" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')


# ------------------------------------------------------------------------------------------------ curves

def test_roc_points_step_through_the_scores_from_the_highest():
    false_positive, true_positive = roc_points(LABELS, SCORES)
    assert false_positive.tolist() == [0.0, 0.0, 0.5, 0.5, 1.0]
    assert true_positive.tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]


def test_roc_points_do_not_depend_on_the_rows_order():
    order = np.array([3, 1, 0, 2])
    assert [points.tolist() for points in roc_points(LABELS[order], SCORES[order])] == [
        points.tolist() for points in roc_points(LABELS, SCORES)]


def test_a_perfect_ranking_reaches_every_positive_before_any_negative():
    false_positive, true_positive = roc_points(np.array([0.0, 1.0, 0.0, 1.0]), np.array([0.2, 0.9, 0.1, 0.8]))
    assert true_positive.tolist() == [0.0, 0.5, 1.0, 1.0, 1.0] and false_positive.tolist() == [0.0, 0.0, 0.0, 0.5, 1.0]


def test_tied_scores_are_one_threshold_whatever_the_rows_order():
    tied = np.full(4, 0.5)
    for labels in ([1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]):
        false_positive, true_positive = roc_points(np.array(labels), tied)
        assert false_positive.tolist() == [0.0, 1.0] and true_positive.tolist() == [0.0, 1.0]  # AUC 0.5
        recall, precision = precision_recall_points(np.array(labels), tied)
        assert recall.tolist() == [1.0] and precision.tolist() == [0.5]


def test_roc_points_of_a_week_with_one_class_stay_finite():
    false_positive, true_positive = roc_points(np.zeros(3), np.array([0.3, 0.2, 0.1]))
    assert true_positive.tolist() == [0.0] * 4 and false_positive.tolist() == [0.0, 1 / 3, 2 / 3, 1.0]


def test_precision_and_recall_at_each_cut_from_the_highest_score():
    recall, precision = precision_recall_points(LABELS, SCORES)
    assert recall.tolist() == [0.5, 0.5, 1.0, 1.0]
    assert precision == pytest.approx([1.0, 0.5, 2 / 3, 0.5])


def test_calibration_points_are_the_mean_score_and_churn_rate_of_each_filled_bin():
    scores = np.array([0.05, 0.12, 0.15, 0.95, 1.0])
    predicted, observed = calibration_points(np.array([0.0, 0.0, 1.0, 1.0, 1.0]), scores)
    # bins [0, 0.1), [0.1, 0.2) and [0.9, 1.0] (a score of 1 is in the top bin); the empty bins are left out
    assert predicted == pytest.approx([0.05, 0.135, 0.975])
    assert observed.tolist() == [0.0, 0.5, 1.0]


def test_calibration_points_with_fewer_bins():
    predicted, observed = calibration_points(np.array([0.0, 1.0, 1.0, 1.0]), np.array([0.1, 0.4, 0.6, 0.9]), bins=2)
    assert predicted == pytest.approx([0.25, 0.75]) and observed.tolist() == [0.5, 1.0]


# ------------------------------------------------------------------------------------------------ the page

def page_inputs(**changes) -> dict:
    rng = np.random.default_rng(4)
    labels = (rng.random(200) < 0.3).astype(float)
    scores = np.clip(0.3 * labels + 0.7 * rng.random(200), 0, 1)
    return {"run_date": WEEK, "execution_name": "week-2026-03-02<rerun>", "metrics": METRICS, "labels": labels,
            "scores": scores,
            "score_bins": [{"segment": "0.0-0.1", "customers": 600}, {"segment": "0.1-0.2", "customers": 400}],
            "importance": [{"feature": "sessions_7d", "share": 0.7}, {"feature": "tenure_days", "share": 0.3}],
            "history": [{"run_date": dt.date(2026, 2, 23), "auc": 0.8, "bayes_auc": None},
                        {"run_date": WEEK, "auc": 0.81234, "bayes_auc": 0.85}],
            "drift": [{"feature": "tenure_days", "psi": 0.05, "stable": True},
                      {"feature": "sessions_7d", "psi": 0.4321, "stable": False}],
            "psi_warning": 0.2,
            "checks": [{"check_name": "customers_scored", "value": 1000.0, "threshold": "== 1000", "passed": True,
                        "severity": "error", "stage": "Publish"}]} | changes


@pytest.fixture(scope="module")
def page() -> str:
    return render(**page_inputs())


def test_the_page_is_self_contained_html_with_every_plot_an_embedded_png(page):
    assert page.startswith("<!doctype html><html>") and page.rstrip().endswith("</body></html>")
    images = PNG_IMAGE.findall(page)
    assert len(images) == 6  # ROC, precision-recall, calibration, score bins, importance, AUC trend
    assert all(base64.b64decode(image).startswith(b"\x89PNG\r\n\x1a\n") for image in images)
    assert page.count("<img") == 6
    assert not re.search(r"(src|href)=\"(?!data:)", page)  # nothing fetched: it opens anywhere, offline
    assert "<script" not in page and "http://" not in page and "https://" not in page


def test_the_page_shows_the_week_the_model_and_its_metrics(page):
    assert "<title>Churn run 2026-03-02</title>" in page and "<h1>Weekly churn run 2026-03-02</h1>" in page
    assert "Execution week-2026-03-02&lt;rerun&gt;; model v7." in page  # escaped, never markup
    assert "<h2>Metrics (the holdout customers of 2026-02-02)</h2>" in page
    for shown in ('<td class="l">auc</td><td class="">0.8123</td>', '<td class="l">ece</td><td class="">0.0234</td>',
                  '<td class="l">calibration</td><td class="">platt</td>',
                  '<td class="l">rows_scored</td><td class="">1000</td>'):
        assert shown in page


def test_the_drift_table_puts_the_largest_shift_first_and_counts_the_shifted(page):
    assert "1 of 2 features shifted (PSI above 0.2)" in page
    drift = page[page.index("<h2>Drift"):page.index("<h2>Data quality")]
    assert drift.index("sessions_7d") < drift.index("tenure_days")
    assert '<td class="">0.4321</td><td class=""><span class="bad">no</span>' in drift


def test_the_data_quality_table_shows_each_check(page):
    checks = page[page.index("<h2>Data quality"):]
    assert '<td class="l">customers_scored</td><td class="">1000.0000</td><td class="l">== 1000</td>' in checks
    assert '<span class="good">yes</span>' in checks


def test_only_the_largest_shifts_are_listed():
    drift = [{"feature": f"feature_{index:02d}", "psi": index / 40, "stable": index < 10}
             for index in range(report.DRIFT_SHOWN + 5)]
    page = render(**page_inputs(drift=drift, checks=[]))
    assert f"10 of {report.DRIFT_SHOWN + 5} features shifted" in page
    assert "feature_19" in page and "feature_05" in page and "feature_04" not in page
    assert "<h2>Data quality</h2><p>none</p>" in page


def test_without_a_champion_the_model_scored_the_week(page):
    assert ("no fair champion to compare with (none of an earlier week that held out the same customers); this "
            "model scored the week") in page


def test_the_champion_challenger_decision_is_stated():
    promoted = render(**page_inputs(metrics=METRICS | {"champion_version": "v6", "champion_auc": 0.79,
                                                       "promoted": True, "scored_with": "v7"}))
    assert ("this model's holdout AUC 0.8123 against champion v6's 0.7900 on the same customers, whom neither trained "
            "on: promoted: it scored "
            "the week and is the champion now.") in promoted
    kept = render(**page_inputs(metrics=METRICS | {"champion_version": "v6", "champion_auc": 0.83,
                                                   "promoted": False, "scored_with": "v6"}))
    assert '<span class="bad">not promoted</span>: champion v6 scored the week' in kept


# ------------------------------------------------------------------------------------------------ write_report

RUN = Run(run_date=WEEK, churn_horizon_weeks=4, model_version="v7", execution_name="e1")


def stored_run(services) -> list:
    """What the run stored before Publish writes its report: the model's validation scores, the week's summary
    and the data-quality rows (with the drift checks among them)."""
    rng = np.random.default_rng(2)
    churned = (rng.random(100) < 0.3).astype(int)
    ModelStore(services.storage).save(
        StoredModel("v7", b"model", FeatureSpec(numeric=["sessions_7d"], categories={}), {}, METRICS),
        pa.table({"customer_id": [f"c{index}" for index in range(100)], "churned": churned,
                  "churn_probability": np.clip(0.4 * churned + 0.6 * rng.random(100), 0, 1)}))
    summary = [{"segment_type": SCORE_BIN, "segment": "0.1-0.2", "customers": 60, "mean_risk": 0.15},
               {"segment_type": SCORE_BIN, "segment": "0.0-0.1", "customers": 40, "mean_risk": 0.05},
               {"segment_type": "all", "segment": "all", "customers": 100, "mean_risk": 0.11}]
    write_parquet(services.storage, f"{attempt_prefix('weekly_summary', WEEK, 'e1')}part-0.parquet",
                  table("weekly_summary").rows_table(summary))
    drift = [warning("psi:sessions_7d", 0.3, "<= 0.2", False, "population stability of sessions_7d")]
    record_checks(services, RUN, "Publish", [held("customers_scored", 100, "== 100", "one each"), *drift])
    return drift


def test_the_report_is_written_beside_the_results_and_its_location_returned(services):
    drift = stored_run(services)

    location = write_report(services, RUN, METRICS | {"feature_importance": [{"feature": "sessions_7d",
                                                                              "share": 1.0}]}, drift)

    key = report_key(WEEK, "e1")
    assert key == "reports/run_date=2026-03-02/e1.html"
    assert location == services.storage.uri(key)
    page = services.storage.read_bytes(key).decode()
    assert len(PNG_IMAGE.findall(page)) == 6
    assert "1 of 1 features shifted" in page
    checks = page[page.index("<h2>Data quality"):]
    assert "customers_scored" in checks and "psi:" not in checks  # the drift table shows those


def test_a_report_that_cannot_be_drawn_is_logged_and_nothing_is_written(services, monkeypatch, caplog):
    drift = stored_run(services)

    def broken(*args, **kwargs):
        raise RuntimeError("no renderer")

    monkeypatch.setattr(report, "_plot", broken)
    caplog.set_level(logging.ERROR, logger="pipeline.results.report")

    assert write_report(services, RUN, METRICS, drift) is None

    assert "the run report of e1 could not be written" in caplog.text and "no renderer" in caplog.text
    assert services.storage.list_keys("reports/") == []


def test_a_run_whose_stored_scores_are_missing_gets_no_report_and_no_error(services, caplog):
    caplog.set_level(logging.ERROR, logger="pipeline.results.report")
    assert write_report(services, RUN, METRICS, []) is None  # nothing stored for model v7
    assert "could not be written" in caplog.text
    assert services.storage.list_keys("reports/") == []
