import datetime as dt

import pyarrow as pa
import pytest

from pipeline.core.errors import DataQualityError
from pipeline.execution.identity import Run
from pipeline.execution.week_lock import release_week
from pipeline.execution.work import AlreadyPublishedError, StaleWorkError
from pipeline.model.features import FeatureSpec
from pipeline.model.store import ModelStore, StoredModel
from pipeline.results.weekly_summary import SegmentTotals
from pipeline.stages.publish import publish
from pipeline.warehouse.layout import segment_totals_key
from pipeline.warehouse.objects import write_json
from pipeline.warehouse.tables import table
from tests.conftest import write_inference_output

WEEK = dt.date(2026, 3, 2)
METRICS = {"model_version": "v1", "auc": 0.8, "bayes_auc": None, "log_loss": 0.3, "base_rate": 0.1,
           "validation_week": "2026-02-02", "rows_trained": 10, "rows_validated": 5, "best_iteration": 3,
           "churn_horizon_weeks": 4}


def run(execution: str) -> Run:
    return Run(run_date=WEEK, churn_horizon_weeks=4, model_version="v1", execution_name=execution)


def store_model(services) -> None:
    model = StoredModel("v1", b"model", FeatureSpec(numeric=["sessions_7d"], categories={}), {}, METRICS)
    ModelStore(services.storage).save(model, pa.table({"customer_id": ["a"], "churned": [1],
                                                       "churn_probability": [0.5]}))


def scored(services, execution: str, rows: int = 2, week: dt.date = WEEK, **output) -> None:
    write_inference_output(services, week, execution, rows, **output)


def published(services) -> dict[str, dict[str, str]]:
    return {name: services.catalog.partitions(table(name)) for name in ("predictions", "model_metrics")}


def test_publish_points_both_partitions_at_the_execution_and_writes_the_metrics_row(services):
    store_model(services)
    scored(services, "first")
    result = publish(services, run("first"), expected_rows=2)
    assert result["rows_published"] == 2
    for locations in published(services).values():
        assert list(locations) == [WEEK.isoformat()] and locations[WEEK.isoformat()].endswith("/execution=first/")
    row = services.sql.query("SELECT * FROM engagement.model_metrics").to_pylist()[0]
    assert row["auc"] == 0.8 and row["rows_scored"] == 2 and row["execution_name"] == "first"


def test_a_redrive_after_the_week_was_published_says_so_rather_than_that_nothing_was(services):
    store_model(services)
    scored(services, "first")
    publish(services, run("first"), expected_rows=2)  # then, say, the Lambda timed out: the execution is redriven
    with pytest.raises(AlreadyPublishedError, match=f"execution first already published run_date {WEEK} .*nothing "
                                                    "is left to do"):
        publish(services, run("first"), expected_rows=2)
    release_week(services.storage, run("first"))  # as RecordFailure does once the redrive failed
    with pytest.raises(StaleWorkError, match="the work of execution second .* is gone .* Nothing was published"):
        publish(services, run("second"), expected_rows=2)  # the week's record names another execution


def test_publish_refuses_a_partial_inference_and_publishes_nothing(services):
    store_model(services)
    scored(services, "first", rows=1)
    with pytest.raises(DataQualityError, match="inference wrote 1 predictions .* expected 2"):
        publish(services, run("first"), expected_rows=2)
    assert published(services) == {"predictions": {}, "model_metrics": {}}


class Killed(BaseException):
    """The process dying mid-call: nothing after it runs, not even an `except Exception`."""


class DiesAfter:
    """Storage, catalog or serving table that lets `calls` go through, then kills the process on the next
    write-like call."""

    WRITES = {"write_bytes", "create_exclusive", "delete_prefix", "put_partition", "publish_partitions",
              "drop_partition", "put_items", "put_unless_later", "purge_expired"}

    def __init__(self, target, budget: list[int]):
        self.target, self.budget = target, budget

    def __getattr__(self, name):
        attribute = getattr(self.target, name)
        if name not in self.WRITES:
            return attribute

        def call(*args, **kwargs):
            if self.budget[0] == 0:
                raise Killed(name)
            self.budget[0] -= 1
            return attribute(*args, **kwargs)
        return call


def test_a_publish_killed_at_any_step_leaves_the_old_week_or_the_new_one_never_a_mix(services):
    store_model(services)
    scored(services, "first")
    publish(services, run("first"), expected_rows=2)
    old = published(services)
    outcomes = set()
    for budget in range(20):
        scored(services, "second")
        remaining = [budget]
        dying = type(services)(services.settings, DiesAfter(services.storage, remaining),
                               DiesAfter(services.catalog, remaining), services.sql, services.history,
                               DiesAfter(services.serving, remaining))
        try:
            publish(dying, run("second"), expected_rows=2)
        except Killed:
            pass
        now = published(services)
        executions = {location.rsplit("execution=", 1)[1] for week in now.values() for location in week.values()}
        assert len(executions) == 1, f"killed after {budget} writes: {now}"  # both tables on one execution
        outcomes |= executions
        if remaining[0] > 0:  # publish finished before its budget ran out: every step was tried
            break
        for name, locations in old.items():  # back to the old week for the next try
            services.catalog.put_partition(table(name), WEEK.isoformat(), locations[WEEK.isoformat()])
    assert outcomes == {"first/", "second/"}


def emitted(caplog) -> list[dict]:
    """The EMF documents logged: each record's `_aws` member and the values it names."""
    return [vars(record) for record in caplog.records if hasattr(record, "_aws")]


def realized(auc: float) -> dict:
    return {"scored_week": WEEK - dt.timedelta(weeks=4), "model_version": "v0", "customers": 2, "churners": 1,
            "auc": auc, "churn_horizon_weeks": 4, "execution_name": "x"}


def test_publish_emits_the_weeks_metrics_and_the_realized_auc_drop_since_the_week_before(services, caplog):
    caplog.set_level("INFO", logger="pipeline.core.emf")
    store_model(services)
    scored(services, "first", realized=realized(0.82))
    publish(services, run("first"), expected_rows=2)
    later = WEEK + dt.timedelta(days=7)
    worse = StoredModel("v2", b"model", FeatureSpec(numeric=["sessions_7d"], categories={}), {},
                        METRICS | {"model_version": "v2", "auc": 0.75})
    ModelStore(services.storage).save(worse, pa.table({"customer_id": ["a"], "churned": [1],
                                                       "churn_probability": [0.5]}))
    scored(services, "second", rows=1, week=later, model_version="v2", realized=realized(0.79))

    publish(services, Run(run_date=later, churn_horizon_weeks=4, model_version="v2", execution_name="second"),
            expected_rows=1)

    first, second = emitted(caplog)
    assert "AucDrop" not in first and first["AUC"] == 0.8 and first["RowsScored"] == 2  # no week before it
    assert first["RealizedAUC"] == 0.82
    # the alarm's drop is the realized one (0.82 to 0.79), not the holdout's (0.8 to 0.75)
    assert second["AucDrop"] == pytest.approx(0.03) and second["AUC"] == 0.75 and second["model_version"] == "v2"
    declared = second["_aws"]["CloudWatchMetrics"][0]
    assert declared["Namespace"] == "ChurnPipeline" and declared["Dimensions"] == [["Pipeline"]]
    assert {metric["Name"] for metric in declared["Metrics"]} == {"AUC", "LogLoss", "RowsScored", "RowsTrained",
                                                                 "RealizedAUC", "AucDrop"}
    assert second["Pipeline"] == "local"


def test_the_weekly_summary_adds_up_segments_and_the_change_since_the_week_before(services):
    store_model(services)
    scored(services, "first", rows=3, probability=[0.1, 0.6, 0.2], plans=["free", "free", "pro"])
    publish(services, run("first"), expected_rows=3)
    later = WEEK + dt.timedelta(days=7)
    scored(services, "second", rows=4, week=later, probability=[0.7, 0.9, 0.4, 0.3],
           plans=["free", "free", "pro", "team"])
    publish(services, Run(run_date=later, churn_horizon_weeks=4, model_version="v1", execution_name="second"),
            expected_rows=4)

    rows = services.sql.query("SELECT * FROM engagement.weekly_summary WHERE run_date = :week "
                              "AND segment_type IN ('plan', 'all')", {"week": later.isoformat()}).to_pylist()
    by_segment = {row["segment"]: row for row in rows}
    free = by_segment["free"]
    assert (free["customers"], free["customers_change"]) == (2, 0)
    assert free["mean_risk"] == pytest.approx(0.8) and free["mean_risk_change"] == pytest.approx(0.8 - 0.35)
    assert free["share_high_risk"] == 1.0 and free["share_high_risk_change"] == pytest.approx(0.5)
    assert by_segment["pro"]["mean_risk_change"] == pytest.approx(0.4 - 0.2)
    assert by_segment["team"]["customers_change"] is None  # new this week
    assert by_segment["all"]["customers"] == 4 and by_segment["all"]["previous_run_date"] == WEEK
    unknown = services.sql.query("SELECT customers FROM engagement.weekly_summary WHERE run_date = :week AND "
                                 "segment_type = 'country'", {"week": later.isoformat()}).to_pylist()
    assert unknown == [{"customers": 4}]  # no country in the snapshot: one "unknown" segment


def test_publish_records_its_check_beside_prepare_datas_in_data_quality(services):
    store_model(services)
    scored(services, "first")
    publish(services, run("first"), expected_rows=2)
    rows = services.sql.query("SELECT check_name, value, threshold, passed, stage FROM engagement.data_quality"
                              ).to_pylist()
    assert rows == [{"check_name": "customers_scored", "value": 2.0, "threshold": "== 2", "passed": True,
                     "stage": "Publish"}]


def test_segment_totals_that_disagree_with_the_predictions_publish_nothing(services):
    store_model(services)
    scored(services, "first", rows=3)
    write_json(services.storage, segment_totals_key(run("first"), 0),
               SegmentTotals({("all", "all"): [2, 0.2, 0]}).to_document())
    with pytest.raises(DataQualityError, match="segment totals count 2 customers .* the predictions 3"):
        publish(services, run("first"), expected_rows=3)
    assert published(services) == {"predictions": {}, "model_metrics": {}}
