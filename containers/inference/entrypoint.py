"""Fargate batch-inference task: score one shard of the run's week with the run's model.

Environment (from the state machine's container overrides): RUN_DATE, MODEL_VERSION, SHARD, EXECUTION_NAME.
"""
import sys

from pipeline.entrypoints import required_env, run_container_main
from pipeline.infer import score_shard
from pipeline.runs import parse_date
from pipeline.services import build_services


def main() -> dict:
    shard = int(required_env("SHARD"))
    rows = score_shard(build_services(), parse_date(required_env("RUN_DATE"), "RUN_DATE"),
                       required_env("MODEL_VERSION"), shard, required_env("EXECUTION_NAME"))
    return {"shard": shard, "rows_scored": rows}


if __name__ == "__main__":
    sys.exit(run_container_main(main))
