"""Fargate training task: fit the week's XGBoost model and register it with its metrics.

Environment (from the state machine's container overrides): RUN_DATE, MODEL_VERSION, CHURN_HORIZON_WEEKS.
"""
import sys

from pipeline.entrypoints import required_env, run_container_main
from pipeline.runs import parse_date
from pipeline.services import build_services
from pipeline.train import train_model


def main() -> dict:
    return train_model(build_services(), parse_date(required_env("RUN_DATE"), "RUN_DATE"),
                       required_env("MODEL_VERSION"), int(required_env("CHURN_HORIZON_WEEKS")))


if __name__ == "__main__":
    sys.exit(run_container_main(main))
