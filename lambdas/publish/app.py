"""Publish: check every customer was scored, write the metrics row, swap the catalog partitions."""
from pipeline.publish import publish_results
from pipeline.runs import RunContext
from pipeline.services import build_services


def handler(event: dict, context=None) -> dict:
    run = RunContext.from_dict(event["run"])
    return publish_results(build_services(), run.run_date, run.model_version, run.execution_name,
                           int(event["expected_rows"]))
