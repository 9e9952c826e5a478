"""What a run measured of its data: error checks that held, warnings, their rows, and each feature's PSI."""
import datetime as dt
import logging

import pytest

from pipeline.execution.identity import Run
from pipeline.model import drift
from pipeline.results.data_quality import ERROR, WARNING, Check, drift_checks, held, record_checks, warning
from pipeline.warehouse.layout import attempt_prefix, drift_counts_key, shard_list_key
from pipeline.warehouse.objects import read_parquet, write_json
from pipeline.warehouse.tables import table

RUN = Run(run_date=dt.date(2026, 3, 2), churn_horizon_weeks=4, model_version="v1", execution_name="e1")


def test_a_check_that_held_is_a_passed_error_check_with_a_float_value():
    check = held("customers_scored", 12, "== 12", "one prediction for each customer")
    assert check == Check("customers_scored", 12.0, "== 12", True, ERROR, "one prediction for each customer")
    assert isinstance(check.value, float)


def test_a_failed_warning_is_recorded_and_logged(caplog):
    caplog.set_level(logging.WARNING, logger="pipeline.results.data_quality")
    check = warning("active_share_change", -0.5, ">= -0.3", False, "active share fell")
    assert (check.passed, check.severity, check.value) == (False, WARNING, -0.5)
    assert "data-quality warning active_share_change: active share fell (value -0.5, rule >= -0.3)" in caplog.text


def test_a_warning_that_passed_is_recorded_quietly(caplog):
    caplog.set_level(logging.WARNING, logger="pipeline.results.data_quality")
    check = warning("active_share_change", 0.1, ">= -0.3", True, "active share")
    assert check.passed and check.severity == WARNING
    assert caplog.records == []


def test_a_stages_checks_are_rows_of_the_data_quality_table_in_the_executions_folder(services):
    checks = [held("snapshot_weeks_available", 9, ">= 5", "weeks landed"),
              warning("active_share_change", -0.5, ">= -0.3", False, "active share fell")]

    record_checks(services, RUN, "PrepareData", checks)

    written = read_parquet(services.storage, f"{attempt_prefix('data_quality', RUN.run_date, 'e1')}PrepareData.parquet")
    assert written.schema == table("data_quality").arrow_schema()
    assert written.to_pylist() == [
        {"check_name": "snapshot_weeks_available", "value": 9.0, "threshold": ">= 5", "passed": True,
         "severity": "error", "detail": "weeks landed", "stage": "PrepareData", "execution_name": "e1"},
        {"check_name": "active_share_change", "value": -0.5, "threshold": ">= -0.3", "passed": False,
         "severity": "warning", "detail": "active share fell", "stage": "PrepareData", "execution_name": "e1"}]


def test_each_stage_writes_its_own_file_beside_the_others(services):
    record_checks(services, RUN, "PrepareData", [held("a", 1, "> 0", "")])
    record_checks(services, RUN, "Publish", [held("b", 2, "> 0", "")])
    rows = read_parquet(services.storage, attempt_prefix("data_quality", RUN.run_date, "e1")).to_pylist()
    assert {(row["check_name"], row["stage"]) for row in rows} == {("a", "PrepareData"), ("b", "Publish")}


def shard_counts(services, counts_by_shard: dict[int, dict[str, list[int]]]) -> None:
    write_json(services.storage, shard_list_key(RUN), sorted(counts_by_shard))
    for shard, counts in counts_by_shard.items():
        write_json(services.storage, drift_counts_key(RUN, shard), counts)


def test_a_model_trained_before_drift_was_measured_has_no_drift_checks(services):
    assert drift_checks(services, RUN, None) == []
    assert drift_checks(services, RUN, {}) == []


def test_each_features_psi_is_taken_on_the_shards_counts_added_up(services):
    reference = {"edges": {}, "counts": {"sessions_7d": [50, 50], "tenure_days": [25, 25, 25, 25],
                                         "dropped_since": [10, 10]}}
    shard_counts(services, {0: {"sessions_7d": [20, 30], "tenure_days": [1, 1, 1, 97]},
                            1: {"sessions_7d": [30, 20], "tenure_days": [0, 0, 0, 100]}})

    checks = {check.check_name: check for check in drift_checks(services, RUN, reference)}

    assert set(checks) == {"psi:sessions_7d", "psi:tenure_days"}  # a feature the shards did not count: no PSI
    stable, shifted = checks["psi:sessions_7d"], checks["psi:tenure_days"]
    assert stable.value == pytest.approx(0.0) and stable.passed  # 50/50 in total, as in the training window
    assert shifted.value == pytest.approx(drift.psi([25, 25, 25, 25], [1, 1, 1, 197]))
    assert shifted.value > drift.PSI_WARNING and not shifted.passed
    for check in checks.values():
        assert check.severity == WARNING and check.threshold == f"<= {drift.PSI_WARNING}"
        assert check.detail.startswith("population stability of ")

