"""What a run measured of its data, one row per check, published as `engagement.data_quality` with the results.

An error check that fails stops the run with a DataQualityError (nothing is published, and `runs` keeps the
error); so the published rows of error checks say what was measured and that it held. A warning that fails is
recorded here, logged, and the run goes on.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass


from pipeline.keys import attempt_prefix
from pipeline.ports import Services
from pipeline.run import Run
from pipeline.storage import write_parquet
from pipeline.tables import table

logger = logging.getLogger(__name__)
ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Check:
    check_name: str
    value: float
    threshold: str
    passed: bool
    severity: str
    detail: str


def held(check_name: str, value: float, threshold: str, detail: str) -> Check:
    """An error check that held (one that failed has already stopped the run)."""
    return Check(check_name, float(value), threshold, True, ERROR, detail)


def warning(check_name: str, value: float, threshold: str, passed: bool, detail: str) -> Check:
    if not passed:
        logger.warning("data-quality warning %s: %s (value %.4g, rule %s)", check_name, detail, value, threshold)
    return Check(check_name, float(value), threshold, passed, WARNING, detail)


def record_checks(services: Services, run: Run, stage: str, checks: list[Check]) -> None:
    """The stage's checks, in the execution's data_quality folder (Publish publishes it with the predictions)."""
    rows = [asdict(check) | {"stage": stage, "execution_name": run.execution_name} for check in checks]
    key = f"{attempt_prefix('data_quality', run.run_date, run.execution_name)}{stage}.parquet"
    write_parquet(services.storage, key, table("data_quality").rows_table(rows))
