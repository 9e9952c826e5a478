"""What a run measured of its data, one row per check, published as `engagement.data_quality` with the results.

An error check that fails stops the run with a DataQualityError (nothing is published, and `runs` keeps the
error); so the published rows of error checks say what was measured and that it held. A warning that fails is
recorded here, logged, and the run goes on.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from pipeline.execution.identity import Run
from pipeline.model import drift
from pipeline.warehouse.layout import drift_counts_key, shard_list_key
from pipeline.warehouse.objects import read_json, write_execution_rows
from pipeline.warehouse.ports import Services

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
    write_execution_rows(services.storage, "data_quality", run.run_date, run.execution_name, rows,
                         file_name=f"{stage}.parquet")


def drift_checks(services: Services, run: Run, reference: dict | None) -> list[Check]:
    """Each numeric feature's PSI between the training window and the shards' rows (warnings, never errors)."""
    if not reference:
        return []  # a model trained before drift was measured
    scored: dict[str, list[int]] = {}
    for shard in read_json(services.storage, shard_list_key(run)):
        scored = drift.add_counts(scored, read_json(services.storage, drift_counts_key(run, shard)))
    values = {name: drift.psi(counts, scored[name]) for name, counts in sorted(reference["counts"].items())
              if name in scored}
    return [warning(f"psi:{name}", value, f"<= {drift.PSI_WARNING}", value <= drift.PSI_WARNING,
                    f"population stability of {name}, training window against the week scored")
            for name, value in values.items()]
