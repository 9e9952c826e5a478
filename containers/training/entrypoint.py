"""Training (Fargate task): fit the week's XGBoost model and store it with its metrics.

Environment (the state machine's container override): RUN, the run's identity as JSON.
"""
import sys

from pipeline.edge.handlers import container_main
from pipeline.execution.identity import Run
from pipeline.warehouse.ports import Services


def main(run: Run, services: Services) -> dict:
    from pipeline.stages.training import train  # here: XGBoost and scikit-learn take ~1 s of CPU to load

    return train(services, run)


if __name__ == "__main__":
    sys.exit(container_main(main, state="Training"))
