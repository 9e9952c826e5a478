"""Inference (Fargate task, one per shard): score one shard of the run's week with the run's model.

Environment (the state machine's container override): RUN, the run's identity as JSON; SHARD, the shard number.
"""
import sys

from pipeline.core.errors import EventError
from pipeline.edge.handlers import container_main, required_env
from pipeline.execution.identity import Run
from pipeline.warehouse.ports import Services


def main(run: Run, services: Services) -> dict:
    shard = required_env("SHARD")
    if not shard.isdigit():
        raise EventError(f"SHARD environment variable: must be a shard number, got {shard!r}")
    from pipeline.stages.inference import score_shard  # here: XGBoost takes ~0.4 s of CPU to import

    return {"shard": int(shard), "rows_scored": score_shard(services, run, int(shard))}


if __name__ == "__main__":
    sys.exit(container_main(main, state="InferenceShard"))
