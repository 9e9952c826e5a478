"""Prepare data: check the landed weeks, then write the training and scoring sets with Athena SQL."""
import os

from pipeline.prepare import DEFAULT_ROWS_PER_SHARD, prepare_data
from pipeline.runs import RunContext
from pipeline.services import build_services


def handler(event: dict, context=None) -> dict:
    run = RunContext.from_dict(event["run"])
    rows_per_shard = int(os.environ.get("INFERENCE_ROWS_PER_SHARD", DEFAULT_ROWS_PER_SHARD))
    return prepare_data(build_services(), run.run_date, run.churn_horizon_weeks, rows_per_shard)
