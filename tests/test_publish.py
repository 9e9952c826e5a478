import datetime as dt

import pyarrow as pa
import pytest

from pipeline.layout import attempt_prefix, model_prefix
from pipeline.publish import publish_results
from pipeline.storage import write_json, write_parquet
from pipeline.tables import table

WEEK = dt.date(2026, 3, 2)
METRICS = {"model_version": "v1", "auc": 0.8, "bayes_auc": None, "log_loss": 0.3, "base_rate": 0.1,
           "validation_week": "2026-02-02", "rows_trained": 10, "rows_validated": 5, "best_iteration": 3,
           "churn_horizon_weeks": 4}


def scored(services, execution: str, rows: int = 2) -> None:
    predictions = pa.table({"customer_id": [f"c{i}" for i in range(rows)], "churn_probability": [0.1] * rows,
                            "risk_band": ["low"] * rows, "model_version": ["v1"] * rows,
                            "snapshot_date": [WEEK] * rows}, schema=table("predictions").arrow_schema())
    write_parquet(services.storage, f"{attempt_prefix('predictions', WEEK, execution)}shard-00000.parquet",
                  predictions)


class FailingMetricsCatalog:
    """The catalog, except that swapping the model_metrics partition fails (a throttled Glue call)."""

    def __init__(self, catalog):
        self.catalog = catalog

    def __getattr__(self, name):
        return getattr(self.catalog, name)

    def put_partition(self, definition, value, location):
        if definition.name == "model_metrics" and "execution=second" in location:
            raise RuntimeError("ThrottlingException")
        self.catalog.put_partition(definition, value, location)


def test_a_failed_swap_puts_the_previous_results_back(services):
    write_json(services.storage, f"{model_prefix('v1')}metrics.json", METRICS)
    scored(services, "first")
    publish_results(services, WEEK, "v1", "first", expected_rows=2)
    before = {name: services.catalog.partitions(table(name)) for name in ("predictions", "model_metrics")}
    scored(services, "second")
    failing = type(services)(services.settings, services.storage, FailingMetricsCatalog(services.catalog),
                             services.sql)
    with pytest.raises(RuntimeError, match="ThrottlingException"):
        publish_results(failing, WEEK, "v1", "second", expected_rows=2)
    assert {name: services.catalog.partitions(table(name)) for name in before} == before
    assert services.sql.query("SELECT count(*) FROM engagement.predictions").column(0)[0].as_py() == 2
