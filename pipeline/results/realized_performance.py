"""How the scores published churn_horizon_weeks ago did, now that their labels are complete: the true out-of-time
performance of what the customers were actually scored with, in SQL over the published tables
(athena_sql/realized_performance.sql), at the cost of one query and no fit. PrepareData measures it, into the
execution's `realized_performance` folder, and Publish publishes it with the week's other results.

For a run's first churn_horizon_weeks weeks, or when the week that far back was not published, there is nothing to
realize: the folder holds no row, and the report and `runs` say so.
"""
from __future__ import annotations

import datetime as dt
import logging

from pipeline.core.errors import DataQualityError
from pipeline.execution.identity import Run
from pipeline.warehouse import sql
from pipeline.warehouse.layout import attempt_prefix
from pipeline.warehouse.objects import read_parquet, write_execution_rows
from pipeline.warehouse.ports import Services
from pipeline.warehouse.tables import table

logger = logging.getLogger(__name__)
TABLE = "realized_performance"


def scored_week(run: Run) -> dt.date:
    """The newest week whose labels are complete at the run's week."""
    return run.run_date - dt.timedelta(weeks=run.churn_horizon_weeks)


def realize(services: Services, run: Run) -> dict | None:
    """Measure the published scores of scored_week(run) against their labels and keep the row in the execution's
    folder; None (and an empty folder) when that week was not published."""
    week = scored_week(run)
    row = _measured(services, run, week) if week.isoformat() in services.catalog.partitions(
        table("predictions")) else None
    rows = [row | {"churn_horizon_weeks": run.churn_horizon_weeks, "execution_name": run.execution_name}] if row else []
    write_execution_rows(services.storage, TABLE, run.run_date, run.execution_name, rows)
    if row:
        logger.info("realized: the scores published for %s (model %s) had AUC %.4f on their %d customers' labels",
                    week, row["model_version"], row["auc"] if row["auc"] is not None else float("nan"),
                    row["customers"])
    else:
        logger.info("nothing to realize: no scores were published for %s", week)
    return rows[0] if rows else None


def _measured(services: Services, run: Run, week: dt.date) -> dict | None:
    rows = services.sql.query(sql.render(TABLE, scored_week=week, first_labelled_week=week, run_date=run.run_date,
                                         churn_horizon_weeks=run.churn_horizon_weeks)).to_pylist()
    if not rows:
        return None
    row = rows[0]
    if row.pop("model_versions") != 1:
        raise DataQualityError(f"the predictions published for {week} name more than one model_version; a week is "
                               "scored by one model: run that week again")
    return row


def realized_of_execution(services: Services, run: Run) -> dict | None:
    """The row PrepareData measured for this execution (None: nothing to realize)."""
    rows = read_parquet(services.storage, attempt_prefix(TABLE, run.run_date, run.execution_name)).to_pylist()
    return rows[0] if rows else None
