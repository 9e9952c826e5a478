"""The run report: one self-contained HTML file per published week, `reports/run_date=<week>/<execution>.html`
beside the results. Every plot is a PNG drawn by matplotlib and embedded in the page, so it opens anywhere, with
no network. It is written by Publish after the week is published, from what the run stored: the validation week's
scores (ROC, precision-recall and calibration curves), this week's score distribution (weekly_summary's score
bins), the new model's feature importance, the metrics of every published week, the drift and data-quality
checks, and the champion/challenger decision.
"""
from __future__ import annotations

import base64
import datetime as dt
import html
import io
import logging

import matplotlib

matplotlib.use("Agg")  # no display: draw into memory
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from pipeline.execution.identity import Run  # noqa: E402
from pipeline.model import drift  # noqa: E402
from pipeline.model.repeat_purchase import AUC_METRICS  # noqa: E402
from pipeline.model.store import ModelStore  # noqa: E402
from pipeline.results.data_quality import Check  # noqa: E402
from pipeline.results.published_weeks import published_metrics  # noqa: E402
from pipeline.results.weekly_summary import SCORE_BIN  # noqa: E402
from pipeline.warehouse.layout import attempt_prefix, report_key  # noqa: E402
from pipeline.warehouse.objects import read_parquet  # noqa: E402
from pipeline.warehouse.ports import Services  # noqa: E402
from pipeline.warehouse.tables import table  # noqa: E402

logger = logging.getLogger(__name__)
DRIFT_SHOWN = 15
STYLE = ("body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}"
         "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}"
         "table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}"
         "th{background:#f4f4f4}td.l,th.l{text-align:left}.grid{display:grid;grid-template-columns:1fr 1fr;gap:1em}"
         ".bad{color:#b00020;font-weight:600}.good{color:#1b7a35}img{max-width:100%}")


def _cumulative_at_thresholds(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Churned and retained rows scored at or above each distinct score, highest first: tied rows are one
    threshold, so the curves do not depend on the rows' order."""
    order = np.argsort(-scores, kind="stable")
    ranked = scores[order]
    last_of_each_score = np.flatnonzero(np.append(ranked[1:] != ranked[:-1], True))
    return np.cumsum(labels[order])[last_of_each_score], np.cumsum(1 - labels[order])[last_of_each_score]


def roc_points(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates at every threshold (numpy only: the Lambda image has no scikit-learn)."""
    positives, negatives = _cumulative_at_thresholds(labels, scores)
    return (np.concatenate([[0], negatives / max(negatives[-1], 1)]),
            np.concatenate([[0], positives / max(positives[-1], 1)]))


def precision_recall_points(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    positives, negatives = _cumulative_at_thresholds(labels, scores)
    return positives / max(positives[-1], 1), positives / (positives + negatives)


def calibration_points(labels: np.ndarray, scores: np.ndarray, bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Mean predicted and observed churn rate in each non-empty equal-width bin of predicted probability."""
    index = np.minimum((scores * bins).astype(int), bins - 1)
    filled = [bin_ for bin_ in range(bins) if (index == bin_).any()]
    return (np.array([scores[index == bin_].mean() for bin_ in filled]),
            np.array([labels[index == bin_].mean() for bin_ in filled]))


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _plot(draw, title: str, xlabel: str, ylabel: str) -> str:
    figure, axes = plt.subplots(figsize=(5.2, 3.6))
    draw(axes)
    axes.set(title=title, xlabel=xlabel, ylabel=ylabel)
    axes.grid(alpha=0.3)
    return _png(figure)


def _table(rows: list[dict], left: tuple[str, ...] = ()) -> str:
    if not rows:
        return "<p>none</p>"
    head = "".join(f'<th class="{"l" if name in left else ""}">{html.escape(name)}</th>' for name in rows[0])
    body = "".join("<tr>" + "".join(f'<td class="{"l" if name in left else ""}">{_cell(value)}</td>'
                                     for name, value in row.items()) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return '<span class="good">yes</span>' if value else '<span class="bad">no</span>'
    if isinstance(value, float):
        return f"{value:.4f}"
    return html.escape("" if value is None else str(value))


def render(*, run_date: dt.date, execution_name: str, metrics: dict, labels: np.ndarray, scores: np.ndarray,
           score_bins: list[dict], importance: list[dict], history: list[dict], drift: list[dict],
           psi_warning: float, checks: list[dict], failed_attempts: list[dict] | None = None,
           realized: dict | None = None, realized_history: list[dict] = ()) -> str:
    """The report's HTML text. `drift`: {feature, psi, stable} per feature; `failed_attempts`: the runs rows of
    this execution's attempts that failed before it was resumed or redriven; `realized`: this run's
    realized_performance row (None: nothing to realize), `realized_history` every published one."""
    false_positive, true_positive = roc_points(labels, scores)
    recall, precision = precision_recall_points(labels, scores)
    predicted, observed = calibration_points(labels, scores)
    curves = [
        _plot(lambda axes: (axes.plot(false_positive, true_positive, label=f"AUC {metrics['auc']:.4f}"),
                            axes.plot([0, 1], [0, 1], "--", color="grey"), axes.legend()),
              "ROC, holdout", "false positive rate", "true positive rate"),
        _plot(lambda axes: (axes.plot(recall, precision, label=f"PR-AUC {metrics['pr_auc']:.4f}"),
                            axes.axhline(labels.mean(), ls="--", color="grey"), axes.legend()),
              "Precision-recall, holdout", "recall", "precision"),
        _plot(lambda axes: (axes.plot(predicted, observed, "o-", label=f"ECE {metrics['ece']:.4f}"),
                            axes.plot([0, 1], [0, 1], "--", color="grey"), axes.legend()),
              "Calibration, holdout", "mean predicted probability", "observed churn rate"),
        _plot(lambda axes: (axes.bar([row["segment"] for row in score_bins], [row["customers"] for row in score_bins]),
                            axes.tick_params(axis="x", rotation=45)),
              f"Scores of week {run_date}", "churn probability", "customers"),
    ]
    top = importance[:15][::-1]
    importance_plot = _plot(lambda axes: axes.barh([row["feature"] for row in top], [row["share"] for row in top]),
                            "Feature importance (share of total gain)", "share", "")
    trend_plot = _trend_plot(history, realized_history)
    decision = _decision(metrics)
    summary = [{"metric": name, "value": metrics.get(name)} for name in (
        "auc", "bayes_auc", *AUC_METRICS, "pr_auc", "log_loss", "brier", "ece", "lift_top_decile",
        "recall_top_decile", "calibration", "rows_trained", "rows_scored")]
    shifted = sorted(drift, key=lambda row: -row["psi"])
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Churn run {run_date}</title>
<style>{STYLE}</style></head><body>
<h1>Weekly churn run {run_date}</h1>
<p>Execution {html.escape(execution_name)}; model {html.escape(str(metrics['model_version']))}. {decision}</p>
<h2>Metrics (the holdout customers of {html.escape(str(metrics['validation_week']))})</h2>
{_table(summary, left=("metric",))}
<h2>Realized: the published scores whose labels are complete this week</h2>{_realized_section(realized)}
<h2>Curves and scores</h2><div class="grid">{"".join(curves)}</div>
<h2>Feature importance and trend</h2><div class="grid">{importance_plot}{trend_plot}</div>
<h2>Drift: population stability index, training window against this week</h2>
<p>{sum(not row["stable"] for row in drift)} of {len(drift)} features shifted (PSI above {psi_warning}); the
{DRIFT_SHOWN} largest:</p>{_table(shifted[:DRIFT_SHOWN], left=("feature",))}
<h2>Data quality</h2>{_table(checks, left=("check_name", "threshold", "severity", "stage"))}
{_failed_attempts_section(failed_attempts or [])}</body></html>"""


def _trend_plot(history: list[dict], realized_history: list[dict]) -> str:
    """Each published week's model by its holdout AUC (when trained) and its scores by their realized AUC (a
    horizon later), both at the week scored; and the true-state AUC where known."""
    trend = sorted(history, key=lambda row: row["run_date"])
    realized = sorted(realized_history, key=lambda row: row["scored_week"])
    return _plot(lambda axes: (
        axes.plot([str(row["run_date"]) for row in trend], [row["auc"] for row in trend], "o-", label="holdout AUC"),
        axes.plot([str(row["scored_week"]) for row in realized], [row["auc"] for row in realized], "s-",
                  label="realized AUC (published scores, labels complete)"),
        axes.plot([str(row["run_date"]) for row in trend], [row.get("bayes_auc") for row in trend], "x--",
                  label="true-state AUC (bayes_auc)"),
        axes.plot([str(row["run_date"]) for row in trend], [_best_baseline(row) for row in trend], "+:",
                  label="best repeat-purchase model (BG/BB, Pareto/NBD)"),
        axes.legend(), axes.tick_params(axis="x", rotation=45)), "AUC of every published week", "week", "AUC")


def _best_baseline(metrics: dict) -> float | None:
    aucs = [metrics[key] for key in AUC_METRICS if metrics.get(key) is not None]
    return max(aucs, default=None)


def _realized_section(realized: dict | None) -> str:
    if realized is None:
        return ("<p>Nothing to realize yet: no scores were published for the week a horizon back (a pipeline's "
                "first weeks, or a week that was not run).</p>")
    rows = [{"metric": name, "value": realized.get(name)} for name in (
        "scored_week", "model_version", "customers", "auc", "pr_auc", "brier", "ece", "lift_top_decile",
        "base_rate")]
    return ("<p>The scores published for that week, against the labels its customers have now: the true "
            f"out-of-time performance.</p>{_table(rows, left=('metric',))}")


def _failed_attempts_section(attempts: list[dict]) -> str:
    if not attempts:
        return ""
    rows = [{key: attempt.get(key) for key in ("attempt", "status", "failed_state", "error", "cause")}
            for attempt in attempts]
    return (f"<h2>Earlier attempts of this execution</h2><p>{len(rows)} attempt(s) failed before this one "
            f"published the week:</p>{_table(rows, left=('status', 'failed_state', 'error', 'cause'))}")


def _decision(metrics: dict) -> str:
    if not metrics.get("champion_version"):
        return ("Champion/challenger: no fair champion to compare with (none of an earlier week that held out the "
                "same customers); this model scored the week.")
    verdict = ("promoted: it scored the week and is the champion now" if metrics["promoted"] else
               f'<span class="bad">not promoted</span>: champion {html.escape(metrics["scored_with"])} scored the week')
    return (f"Champion/challenger: this model's holdout AUC {metrics['auc']:.4f} against champion "
            f"{html.escape(metrics['champion_version'])}'s {metrics['champion_auc']:.4f} on the same customers, "
            f"whom neither trained on: {verdict}.")


def write_report(services: Services, run: Run, metrics: dict, drift_checks: list[Check],
                 realized: dict | None = None) -> str | None:
    """The run report beside the results; a report that cannot be drawn is logged, never a failed publish (the
    week's tables are already switched)."""
    try:
        page = render(
            run_date=run.run_date, execution_name=run.execution_name, metrics=metrics,
            **_validation_curves(services, run.model_version), score_bins=_score_bins(services, run),
            importance=metrics.get("feature_importance", []), history=published_metrics(services),
            drift=[{"feature": check.check_name.removeprefix("psi:"), "psi": check.value, "stable": check.passed}
                   for check in drift_checks], psi_warning=drift.PSI_WARNING,
            checks=[row for row in read_parquet(services.storage, attempt_prefix(
                "data_quality", run.run_date, run.execution_name)).select(
                ["check_name", "value", "threshold", "passed", "severity", "stage"]).to_pylist()
                if not row["check_name"].startswith("psi:")],  # the drift table shows those
            failed_attempts=_failed_attempts(services, run), realized=realized,
            realized_history=published_metrics(services, "realized_performance"))
    except Exception:
        logger.exception("the run report of %s could not be written", run.execution_name)
        return None
    key = report_key(run.run_date, run.execution_name)
    services.storage.write_bytes(key, page.encode())
    return services.storage.uri(key)


def _failed_attempts(services: Services, run: Run) -> list[dict]:
    week = table("runs").partition_prefix(run.run_date.isoformat())
    rows = [row for key in services.storage.list_keys(week) if key.startswith(f"{week}{run.execution_name}.attempt-")
            for row in read_parquet(services.storage, key).to_pylist()]
    return sorted((row for row in rows if row["status"] != "SUCCEEDED"), key=lambda row: row["attempt"])


def _validation_curves(services: Services, model_version: str) -> dict:
    validation = ModelStore(services.storage).validation_scores(model_version)
    return {"labels": validation.column("churned").to_numpy().astype(float),
            "scores": validation.column("churn_probability").to_numpy()}


def _score_bins(services: Services, run: Run) -> list[dict]:
    rows = read_parquet(services.storage, attempt_prefix("weekly_summary", run.run_date, run.execution_name))
    return sorted((row for row in rows.to_pylist() if row["segment_type"] == SCORE_BIN), key=lambda row: row["segment"])
