"""Per-run metrics in CloudWatch's Embedded Metric Format: a log line whose JSON carries an `_aws` member, which
CloudWatch Logs turns into metrics in the ChurnPipeline namespace (the JSON log lines go to stdout, which Lambda and
the tasks' awslogs driver send there). No API call and no client, so nothing that can fail a run; locally the
same lines land in the run's log files.

Metrics, each with the dimension Pipeline (the stack's name; `local` on this machine):
  StateDuration (Seconds, also by State)     every Lambda and task, from its door
  AUC, LogLoss, RowsScored, RowsTrained      Publish, for the week it published
  AucDrop                                    Publish: the previous published week's AUC minus this week's
"""
from __future__ import annotations

import logging
import os
import time

NAMESPACE = "ChurnPipeline"
logger = logging.getLogger(__name__)


def pipeline_name() -> str:
    return os.environ.get("PIPELINE_NAME", "local")


def emf_document(values: dict[str, tuple[float, str]], dimensions: dict[str, str], properties: dict,
                 timestamp_ms: int) -> dict:
    """The EMF document of `values` (name -> (value, unit)): every dimension as one dimension set."""
    return {
        "_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": [{
            "Namespace": NAMESPACE, "Dimensions": [list(dimensions)],
            "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in values.items()]}]},
        **properties, **dimensions, **{name: value for name, (value, _) in values.items()},
    }


def emit(values: dict[str, tuple[float, str]], dimensions: dict[str, str] | None = None, **properties) -> dict:
    document = emf_document(values, {"Pipeline": pipeline_name(), **(dimensions or {})}, properties,
                            int(time.time() * 1000))
    logger.info("metrics: %s", ", ".join(values), extra=document)
    return document
