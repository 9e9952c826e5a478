"""The SQL of athena_sql/: every file parses as Athena's dialect, and each shipped query (athena_sql/queries/)
answers its question on a small published panel, run as an analyst runs it (`query --file … --param …`), with
its parameters bound. A local query is read-only: one SELECT, no file outside the data directory."""
from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pyarrow as pa
import pytest
import sqlglot

from pipeline.core.errors import QueryError
from pipeline.core.settings import load_settings
from pipeline.execution.identity import Run
from pipeline.landing.contract_checks import validate_snapshot
from pipeline.landing.event_mapping import KIND_COLUMNS, EventMapping
from pipeline.landing.events import event_weeks_sql
from pipeline.landing.ingest import land_snapshot
from pipeline.results.data_quality import held, record_checks, warning
from pipeline.results.run_history import record_attempt
from pipeline.stages.prepare_data import Window, scoring_set_sql, training_set_sql
from pipeline.warehouse.layout import attempt_prefix
from pipeline.warehouse.objects import write_execution_rows, write_parquet
from pipeline.warehouse.publication import Publication, publish
from pipeline.warehouse.kept_features import features_sql
from pipeline.warehouse.sql import SQL_DIR, render
from pipeline.warehouse.tables import table
from tools.cli.app import main

QUERIES = SQL_DIR / "queries"
WEEK_1, WEEK_2 = dt.date(2026, 11, 9), dt.date(2026, 11, 16)
# Three customers scored two weeks running: a rises by 0.5, b falls by 0.2, c rises by 0.1.
SCORES = {WEEK_1: {"a": 0.2, "b": 0.7, "c": 0.4}, WEEK_2: {"a": 0.7, "b": 0.5, "c": 0.5}}
SEGMENTS = {"a": ("premium", "FR"), "b": ("free", "FR"), "c": ("free", "NA")}
# An event log's mapping that names every kind, its amounts and its minutes: event_weeks.sql with all its columns
EVERY_KIND = EventMapping.model_validate({
    "columns": {"customer_id": "c", "event_time": "t", "event_type": "e", "amount": "a", "minutes": "m"},
    "event_types": {kind: [kind] for kind in KIND_COLUMNS}})


def rendered_templates() -> dict[str, str]:
    """The data-prep templates, rendered as PrepareData renders them."""
    window = Window(WEEK_2, churn_horizon_weeks=4, training_weeks=8)
    return {"training_set.sql": training_set_sql(window, load_settings()),
            "scoring_set.sql": scoring_set_sql(WEEK_2, shard_count=4),
            "snapshot_weeks.sql": render("snapshot_weeks", first_week=window.first_week, run_date=WEEK_2),
            "customer_weeks.sql": render("customer_weeks", first_week=window.first_week, run_date=WEEK_2),
            "event_days.sql": render("event_days", upload="20261116T090000-0a1b2c3d"),
            "event_weeks.sql": event_weeks_sql(EVERY_KIND, WEEK_1, WEEK_2),
            "features.sql": features_sql([window.first_labelled_week.isoformat(), WEEK_2.isoformat()]),
            **{f"{name}.sql": render(name, scored_week=window.validation_week, run_date=WEEK_2, churn_horizon_weeks=4,
                                     first_labelled_week=window.validation_week)
               for name in ("labels", "realized_performance")}}


def test_every_sql_file_parses_as_athena_sql():
    templates = rendered_templates()
    files = sorted(SQL_DIR.rglob("*.sql"))
    assert {path.name for path in files if path.parent == SQL_DIR} == set(templates)  # a new one joins the list
    for path in files:
        text = templates[path.name] if path.parent == SQL_DIR else path.read_text()
        assert sqlglot.parse_one(text, read="athena"), path
    for path in QUERIES.glob("*.sql"):  # each says what it answers, and its parameters
        header = path.read_text().split("\nSELECT")[0].split("\nWITH")[0]
        assert header.startswith("-- ") and "Parameters:" in header, path


def publish_scores(services, week: dt.date) -> None:
    scores = SCORES[week]
    rows = pa.table({"customer_id": list(scores), "churn_probability": list(scores.values()),
                     "risk_band": ["high" if p >= 0.5 else "medium" if p >= 0.2 else "low" for p in scores.values()],
                     "model_version": [f"v{week:%d}"] * 3, "snapshot_date": [week] * 3},
                    schema=table("predictions").arrow_schema())
    predictions = attempt_prefix("predictions", week, "e")
    write_parquet(services.storage, f"{predictions}part-0.parquet", rows)
    metrics = attempt_prefix("model_metrics", week, "e")
    metric_row = {name: None for name in table("model_metrics").arrow_schema().names} | {
        "model_version": f"v{week:%d}", "auc": 0.8 + week.day / 1000, "rows_scored": 3}
    write_parquet(services.storage, f"{metrics}part-0.parquet",
                  pa.Table.from_pylist([metric_row], schema=table("model_metrics").arrow_schema()))
    run = Run(run_date=week, churn_horizon_weeks=4, model_version=f"v{week:%d}", execution_name="e")
    active_share_fell = week == WEEK_2
    record_checks(services, run, "PrepareData", [
        held("duplicate_customer_rows", 0, "== 0", "one row per customer"),
        warning("active_share_change", -0.3 if active_share_fell else 0.01, ">= -0.2", not active_share_fell,
                "share of active customers, change")])
    realized = [{"scored_week": week - dt.timedelta(weeks=4), "auc": 0.79}] if week == WEEK_2 else []
    write_execution_rows(services.storage, "realized_performance", week, "e", realized)
    publish(services, Publication("results", week.isoformat(), {
        "predictions": predictions, "model_metrics": metrics, **{
            name: attempt_prefix(name, week, "e") for name in ("data_quality", "realized_performance")}},
        published_by="e"))
    record_attempt(services, week, f"week-{week}", 0, {"status": "SUCCEEDED", "duration_seconds": 60.0,
                                                       "customers": 3, "rows_scored": 3})


@pytest.fixture
def published(services):
    for week in SCORES:
        frame = pd.DataFrame({"customer_id": list(SEGMENTS), "sessions_7d": [1, 0, 2],
                              "plan": [plan for plan, _ in SEGMENTS.values()],
                              "country": [country for _, country in SEGMENTS.values()]})
        land_snapshot(services, validate_snapshot(frame, f"week {week}")[0], week)
        publish_scores(services, week)
    return services


def run_query(capsys, name: str, *params: str) -> list[dict]:
    arguments = ["query", "--file", str(QUERIES / f"{name}.sql"), "--format", "json"]
    assert main([*arguments, *(item for param in params for item in ("--param", param))]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_top_at_risk_is_ordered_and_limited(published, capsys):
    rows = run_query(capsys, "top_at_risk", f"run_date={WEEK_2}", "top_n=2")
    assert [(row["customer_id"], row["churn_probability"]) for row in rows] == [("a", 0.7), ("b", 0.5)]
    assert len(run_query(capsys, "top_at_risk", f"run_date={WEEK_2}", "top_n=10")) == 3


def test_risk_increases_match_the_hand_computed_deltas(published, capsys):
    rows = run_query(capsys, "risk_increases", f"run_date={WEEK_2}", "top_n=3")
    assert [row["customer_id"] for row in rows] == ["a", "c", "b"]
    assert [round(row["increase"], 6) for row in rows] == [0.5, 0.1, -0.2]
    assert rows[0]["previous_probability"] == 0.2


def test_risk_by_segment_groups_the_scored_snapshot(published, capsys):
    rows = run_query(capsys, "risk_by_segment", f"run_date={WEEK_2}")
    by_segment = {(row["plan"], row["country"]): row for row in rows}
    assert set(by_segment) == {("premium", "FR"), ("free", "FR"), ("free", "NA")}  # NA: Namibia, kept
    assert by_segment[("premium", "FR")]["mean_risk"] == 0.7 and by_segment[("premium", "FR")]["share_high_risk"] == 1
    assert sum(row["customers"] for row in rows) == 3


def test_model_performance_lists_the_newest_weeks_first(published, capsys):
    rows = run_query(capsys, "model_performance", "weeks=2")
    assert [(row["run_date"], row["rows_scored"], row["realized_auc"]) for row in rows] == [
        (WEEK_2.isoformat(), 3, 0.79), (WEEK_1.isoformat(), 3, None)]  # the first week has nothing to realize


def test_data_quality_history_puts_what_did_not_pass_first_newest_week_first(published, capsys):
    rows = run_query(capsys, "data_quality_history", "weeks=2")
    assert [(row["run_date"], row["check_name"], row["passed"]) for row in rows] == [
        (WEEK_2.isoformat(), "active_share_change", False), (WEEK_2.isoformat(), "duplicate_customer_rows", True),
        (WEEK_1.isoformat(), "active_share_change", True), (WEEK_1.isoformat(), "duplicate_customer_rows", True)]
    assert rows[0]["value"] == -0.3 and rows[0]["threshold"] == ">= -0.2" and rows[0]["severity"] == "warning"
    assert {row["run_date"] for row in run_query(capsys, "data_quality_history", "weeks=1")} == {WEEK_2.isoformat()}


def test_run_history_lists_the_newest_attempts(published, capsys):
    rows = run_query(capsys, "run_history", "top_n=5")
    assert {(row["execution_name"], row["status"], row["rows_scored"]) for row in rows} == {
        (f"week-{WEEK_1}", "SUCCEEDED", 3), (f"week-{WEEK_2}", "SUCCEEDED", 3)}
    assert len(run_query(capsys, "run_history", "top_n=1")) == 1


def test_a_missing_or_unused_parameter_is_named(published, capsys):
    assert main(["query", "--file", str(QUERIES / "top_at_risk.sql"), "--param", f"run_date={WEEK_2}"]) == 2
    assert "needs parameter(s) top_n" in capsys.readouterr().err
    assert main(["query", "SELECT 1 AS one", "--param", "week=3"]) == 2
    assert "parameter(s) week not used" in capsys.readouterr().err


def test_a_parameter_is_bound_not_pasted(published, capsys):
    hostile = "2026-11-16' OR '1'='1"
    assert main(["query", "SELECT count(*) AS n FROM engagement.predictions WHERE CAST(run_date AS VARCHAR) = :d",
                 "--param", f"d={hostile}", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["n", "0"]  # compared as one string; no row matches it


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/etc/passwd')",
    "COPY (SELECT 1) TO '/tmp/outside.csv'",
    "CREATE TABLE engagement.copy AS SELECT * FROM engagement.predictions",
    "DROP VIEW engagement.predictions",
    "SELECT 1; SELECT 2",
    "INSTALL httpfs",
])
def test_a_local_query_cannot_read_or_write_outside_the_data_directory_nor_change_a_table(published, sql):
    with pytest.raises(QueryError):
        published.sql.query(sql)
    assert published.sql.query("SELECT count(*) AS n FROM engagement.predictions").column("n")[0].as_py() == 6


def test_a_copy_into_the_warehouse_is_refused_too(published):
    inside = published.storage.uri("results/predictions/evil.parquet")
    with pytest.raises(QueryError, match="only one SELECT"):
        published.sql.query(f"COPY (SELECT 1) TO '{inside}'")
    assert not published.storage.list_keys("results/predictions/evil")


def test_explain_shows_the_one_partition_a_week_filter_reads(published, capsys):
    arguments = ["query", "--file", str(QUERIES / "top_at_risk.sql"), "--param", f"run_date={WEEK_2}",
                 "--param", "top_n=2", "--explain"]
    assert main(arguments) == 0
    plan = capsys.readouterr().out
    assert f"run_date={WEEK_2}" in plan and f"run_date={WEEK_1}" not in plan and "Total Files Read: 1" in plan
