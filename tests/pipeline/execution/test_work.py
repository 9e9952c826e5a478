"""An execution's work is checked against the landed weeks it was made from, and only against them."""
import dataclasses

import pytest

from pipeline.execution.identity import Run
from pipeline.execution.work import StaleWorkError, check_inputs, record_inputs
from tests.conftest import land_weeks, week

RUN = Run(run_date=week(2), churn_horizon_weeks=1, model_version="v", execution_name="e1")


def test_a_week_landed_again_makes_the_work_stale(services):
    land_weeks(services, {"c1": [3, 1], "c2": [0, 2]})
    record_inputs(services, RUN, week(1))
    land_weeks(services, {"c1": [3, 1], "c2": [0, 2]})
    with pytest.raises(StaleWorkError, match=f"week {week(1)} was landed again"):
        check_inputs(services, RUN)


def test_settings_the_tasks_do_not_see_are_not_a_change(services):
    """On AWS the Fargate tasks get none of the Lambdas' TRAINING_WEEKS or sample rates: already in the sets."""
    land_weeks(services, {"c1": [3, 1], "c2": [0, 2]})
    record_inputs(dataclasses.replace(services, settings=dataclasses.replace(services.settings, training_weeks=12,
                                                                             retained_sample_rate=1.0)), RUN, week(1))
    check_inputs(services, RUN)  # the defaults here: no refusal
