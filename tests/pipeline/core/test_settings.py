import pytest

from pipeline.core.errors import ConfigError
from pipeline.core.settings import load_settings, positive_int


def test_defaults_need_no_environment():
    settings = load_settings({})
    assert settings.bucket is None and settings.athena_workgroup == "primary"
    assert settings.churn_horizon_weeks == 4 and settings.rows_per_shard == 250_000
    assert settings.query_timeout_seconds == 300


def test_values_come_from_the_environment():
    settings = load_settings({"PIPELINE_BUCKET": "b", "ATHENA_WORKGROUP": "w", "CHURN_HORIZON_WEEKS": "2",
                              "INFERENCE_ROWS_PER_SHARD": "10", "QUERY_TIMEOUT_SECONDS": "60"})
    assert (settings.bucket, settings.athena_workgroup, settings.churn_horizon_weeks, settings.rows_per_shard,
            settings.query_timeout_seconds) == ("b", "w", 2, 10, 60)


@pytest.mark.parametrize("name", ["CHURN_HORIZON_WEEKS", "INFERENCE_ROWS_PER_SHARD", "QUERY_TIMEOUT_SECONDS"])
@pytest.mark.parametrize("value", ["0", "-3", "four", "1.5"])
def test_a_bad_number_names_the_variable(name, value):
    with pytest.raises(ConfigError, match=f"{name} must be a positive integer, got '{value}'"):
        load_settings({name: value})


def test_positive_int_refuses_booleans_and_fractions():
    assert [positive_int(value) for value in (1, "7", True, 0, "2.0", None)] == [1, 7, None, None, None, None]


@pytest.mark.parametrize("name, value", [("WEEKLY_SHRINK_LIMIT", "1.5"), ("WEEKLY_SHRINK_LIMIT", "0"),
                                         ("WEEKLY_GROWTH_LIMIT", "0.9"), ("WEEKLY_GROWTH_LIMIT", "lots")])
def test_week_size_limits_must_make_sense(name, value):
    with pytest.raises(ConfigError, match=f"{name} must be a number"):
        load_settings({name: value})
