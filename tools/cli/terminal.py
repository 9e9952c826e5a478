"""What a person sees of a run: live progress while states run, then a summary of what happened."""
from __future__ import annotations

import datetime as dt
import threading
import time

from rich.console import Console
from rich.table import Table

from local_runtime.asl import StateEvent
from pipeline.model.repeat_purchase import AUC_METRICS


def _seconds(event: StateEvent) -> float:
    return max(0.0, event.ended - event.started)


HEARTBEAT_SECONDS = 15


class RunProgress:
    """Prints each top-level state as it ends; while states run, a ticking spinner on a terminal, or a line
    every HEARTBEAT_SECONDS when the output is a log (CI, `| tee`), so a long stage never looks stuck."""

    def __init__(self, console: Console):
        self.console = console
        self.shards_done = 0
        self._lock = threading.Lock()
        self._status = console.status("starting")
        self._running: dict[str, float] = {}
        self._stopped = threading.Event()
        self._heartbeat = threading.Thread(target=self._beat, daemon=True)

    def __enter__(self) -> "RunProgress":
        if self.console.is_terminal:
            self._status.start()
        else:
            self._heartbeat.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stopped.set()
        self._status.stop()

    def _beat(self) -> None:
        while not self._stopped.wait(HEARTBEAT_SECONDS):
            with self._lock:
                if self._running:
                    self.console.print(f"  … {self._describe_running()}", highlight=False)

    def __call__(self, event: StateEvent) -> None:
        with self._lock:
            if event.scope:  # a state inside the Map: one shard scored when it succeeds
                self.shards_done += event.status == "succeeded"
                self._refresh()
                return
            if event.status == "started":
                self._running[event.name] = time.monotonic()
            else:
                if event.status != "retried":
                    self._running.pop(event.name, None)
                mark = {"succeeded": "[green]✓[/]", "retried": "[yellow]↻[/]"}.get(event.status, "[red]✗[/]")
                detail = f"  {event.error}" if event.error else ""
                self.console.print(f"{mark} {event.name:<15} {_seconds(event):7.1f}s  {event.status}{detail}")
            self._refresh()

    def _describe_running(self) -> str:
        parts = [f"{name} ({time.monotonic() - since:.0f}s)" for name, since in self._running.items()]
        if "Inference" in self._running:
            parts.append(f"{self.shards_done} shard(s) scored")
        return "running: " + ", ".join(parts) if parts else ""

    def _refresh(self) -> None:
        self._status.update(self._describe_running())


def summary_table(finished: dict[str, StateEvent], output: dict, metrics: dict) -> Table:
    prepared, published = output.get("prepared", {}), output.get("published", {})
    rows = {
        "Cleanup": ("", f"{output['cleanup']['files_removed']} stale file(s) removed"),
        "PrepareData": (f"{prepared['snapshot_rows']:,} snapshot rows ({prepared['weeks_available']} weeks)",
                        f"weeks checked, {prepared['scoring_rows']:,} customers to score"),
        "PrepareSets": ("two Athena UNLOADs", f"training set, scoring set in {prepared['shard_count']} shard(s)"),
        "Training": (f"{metrics['rows_trained']:,} labelled rows",
                     f"model {metrics['model_version']}, {metrics['best_iteration'] + 1} trees"),
        "Inference": (f"{prepared['scoring_rows']:,} customers",
                      f"{prepared['scoring_rows']:,} scores in {prepared['shard_count']} shard(s)"),
        "Publish": (f"{prepared['scoring_rows']:,} scores", f"{published['rows_published']:,} rows published"),
    }
    table = Table(title="Weekly run", show_lines=False)
    for column in ("state", "seconds", "in", "out"):
        table.add_column(column, justify="right" if column == "seconds" else "left")
    for name, event in finished.items():
        rows_in, rows_out = rows.get(name, ("", ""))
        table.add_row(name, f"{_seconds(event):.1f}", rows_in, rows_out)
    return table


def metrics_line(metrics: dict) -> str:
    bayes = metrics.get("bayes_auc")
    ceiling = f", true-state AUC {bayes:.4f} (gap {bayes - metrics['auc']:+.4f})" if bayes is not None else ""
    line = (f"Holdout customers of {metrics['validation_week']}: AUC {metrics['auc']:.4f}{ceiling}, "
            f"log loss {metrics['log_loss']:.4f}, churn base rate {metrics['base_rate']:.1%}")
    if "brier" in metrics:  # models trained before these metrics existed lack them
        line += (f"; PR-AUC {metrics['pr_auc']:.4f}, Brier {metrics['brier']:.4f}, ECE {metrics['ece']:.4f}, "
                 f"top decile: lift {metrics['lift_top_decile']:.2f}, recall {metrics['recall_top_decile']:.1%}, "
                 f"calibration {metrics['calibration']}")
    baselines = [f"{name} {metrics[key]:.4f}" for key, name in AUC_METRICS.items() if metrics.get(key) is not None]
    if baselines:
        line += f"; repeat-purchase baselines on the same rows: {', '.join(baselines)}"
    if metrics.get("champion_version"):
        verdict = ("promoted" if metrics["promoted"] else
                   f"not promoted: champion {metrics['scored_with']} scored the week")
        line += f"; against champion {metrics['champion_version']} (AUC {metrics['champion_auc']:.4f}): {verdict}"
    return line


def realized_line(metrics: dict, realized_auc: float | None) -> str:
    """How the scores published a horizon before the run's week did against their now-complete labels."""
    scored_week = dt.date.fromisoformat(metrics["run_date"]) - dt.timedelta(weeks=metrics["churn_horizon_weeks"])
    if realized_auc is None:
        return (f"Realized: nothing yet, no scores were published for {scored_week} (the labels of a week's scores "
                f"are complete {metrics['churn_horizon_weeks']} weeks later)")
    return f"Realized: the scores published for {scored_week} had AUC {realized_auc:.4f} against their labels"
