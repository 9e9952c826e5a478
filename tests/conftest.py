import datetime as dt

import pandas as pd
import pytest
from moto import mock_aws

from pipeline.config import load_settings
from pipeline.land import land_snapshot
from pipeline.services import Services, build_services
from pipeline.validate import validate_snapshot

FIRST_WEEK = dt.date(2026, 1, 5)
AWS_REGION = "eu-west-1"


@pytest.fixture
def mocked_aws(monkeypatch):
    """moto's S3, Glue, Step Functions… for the AWS code paths (nothing leaves the machine)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", AWS_REGION)
    with mock_aws():
        yield


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh local data directory for the test (handlers and containers read it from the environment)."""
    path = tmp_path / "home"
    monkeypatch.setenv("PIPELINE_HOME", str(path))
    monkeypatch.setenv("PIPELINE_RUNTIME", "local")
    monkeypatch.delenv("CHURN_HORIZON_WEEKS", raising=False)
    return path


@pytest.fixture
def services(home) -> Services:
    return build_services(load_settings())


def week(index: int) -> dt.date:
    """The date of weekly snapshot number `index` (1-based)."""
    return FIRST_WEEK + dt.timedelta(weeks=index - 1)


def land_weeks(services: Services, sessions_by_customer: dict[str, list[int | None]]) -> None:
    """Land one snapshot per week from {customer: [sessions_7d per week, None = no row that week]}."""
    weeks = len(next(iter(sessions_by_customer.values())))
    for index in range(1, weeks + 1):
        rows = [(customer, sessions[index - 1]) for customer, sessions in sessions_by_customer.items()
                if sessions[index - 1] is not None]
        frame = pd.DataFrame(rows, columns=["customer_id", "sessions_7d"])
        table, _ = validate_snapshot(frame, f"week {index}")
        land_snapshot(services, table, week(index))
