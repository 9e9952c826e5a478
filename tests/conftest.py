import datetime as dt
import hashlib

import boto3
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from moto import mock_aws

from local_runtime.host import install_local_host
from pipeline.aws import aws_services
from pipeline.core.settings import load_settings
from pipeline.edge.host import install_host
from pipeline.execution.identity import Run, landed_weeks
from pipeline.execution.work import record_inputs
from pipeline.model.features import feature_matrix, fit_feature_spec
from pipeline.landing.contract_checks import validate_snapshot
from pipeline.landing.ingest import land_snapshot
from pipeline.model.holdout import HOLDOUT_SHARE
from pipeline.model.store import ModelStore, StoredModel
from pipeline.results.weekly_summary import SegmentTotals
from pipeline.stages.keep_features import keep_features
from pipeline.warehouse.kept_features import FEATURE_PARTITION, features_sql, keep, stale_weeks
from pipeline.warehouse.layout import (
    attempt_prefix,
    drift_counts_key,
    segment_totals_key,
    shard_list_key,
)
from pipeline.warehouse.objects import write_execution_rows, write_json, write_parquet
from pipeline.warehouse.ports import Services
from pipeline.warehouse.sql import unload_statement
from pipeline.warehouse.tables import table
from tests.integration.glue_tables import create_glue_tables
from tools.synthetic.panel import land_synthetic_panel

FIRST_WEEK = dt.date(2026, 1, 5)
AWS_REGION = "eu-west-1"
BUCKET = "churn-data"
PANEL_CUSTOMERS, PANEL_WEEKS = 800, 9


def pytest_collection_modifyitems(items):
    """Everything under end_to_end/ runs the state machine: slow by nature (`-m "not slow"` skips it)."""
    for item in items:
        if "end_to_end" in item.path.parts:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def no_installed_host():
    """Every test starts and ends with no host installed: handlers would build the AWS adapters."""
    install_host(None)
    yield
    install_host(None)


@pytest.fixture
def mocked_aws(monkeypatch):
    """moto's S3, Glue, Step Functions… for the AWS code paths (nothing leaves the machine)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", AWS_REGION)
    with mock_aws():
        yield


@pytest.fixture
def aws(mocked_aws, monkeypatch) -> Services:
    """The AWS adapters on moto: the bucket and the Glue tables the SAM template creates."""
    monkeypatch.setenv("PIPELINE_RUNTIME", "aws")
    monkeypatch.setenv("PIPELINE_BUCKET", BUCKET)
    monkeypatch.setenv("SERVING_TABLE", create_serving_table(boto3.client("dynamodb")))
    boto3.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": AWS_REGION})
    create_glue_tables(boto3.client("glue"), f"s3://{BUCKET}")
    return aws_services(load_settings())


def store_tiny_model(storage, version: str = "v1", extra: dict | None = None) -> None:
    """A small complete model in the store: 200 customers' sessions_7d and plan (and `extra` columns), churned
    where sessions_7d is 0."""
    import xgboost as xgb  # only the tests that score load it

    rng = np.random.default_rng(3)
    rows = pa.table({"sessions_7d": rng.integers(0, 5, 200), "plan": rng.choice(["free", "basic"], 200),
                     **(extra or {})})
    labels = (rows.column("sessions_7d").to_numpy() == 0).astype(int)
    spec = fit_feature_spec([rows])
    matrix = xgb.DMatrix(feature_matrix(rows, spec), label=labels, feature_names=spec.names,
                         feature_types=spec.feature_types, enable_categorical=True)
    booster = xgb.train({"objective": "binary:logistic", "seed": 1, "nthread": 1}, matrix, 5)
    ModelStore(storage).save(StoredModel(version, bytes(booster.save_raw("ubj")), spec, {}, {"best_iteration": 4}),
                             pa.table({"customer_id": ["x"], "churned": [0], "churn_probability": [0.1]}))


def create_serving_table(client, name: str = "churn-serving") -> str:
    """The serving table as the SAM template creates it (keys, on-demand, the TTL attribute); its name."""
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                   {"AttributeName": "sk", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "S"}])
    client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True,
                                                                       "AttributeName": "expires_at"})
    return name


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh local data directory for the test (handlers and containers read it from the environment)."""
    path = tmp_path / "home"
    monkeypatch.setenv("PIPELINE_HOME", str(path))
    monkeypatch.delenv("PIPELINE_RUNTIME", raising=False)
    monkeypatch.delenv("CHURN_HORIZON_WEEKS", raising=False)
    return path


@pytest.fixture
def services(home) -> Services:
    """The local stand-ins, installed as the host the handlers use."""
    return install_local_host()


@pytest.fixture
def panel(services) -> Services:
    """A small seeded synthetic panel, landed: enough weeks for one honest run."""
    land_synthetic_panel(services, PANEL_CUSTOMERS, PANEL_WEEKS, seed=3, if_missing=False)
    return services


def prepare_sets(services: Services, run: Run | dict, prepared: dict, attempt: int = 0) -> dict[str, int]:
    """What the state machine does after PrepareData: UnloadFeatures and KeepFeatures if weeks need features, then
    PrepareSets' two UNLOADs, each composed as it composes them (pipeline.warehouse.sql.unload_statement), run by
    the local engine. Rows written, by set."""
    if prepared["features"]["week_count"]:
        services.sql.run_unload(unload_statement(prepared["features"]["unload"], attempt))
        keep_features(services, Run.model_validate(run), prepared["features"]["weeks"])
    return {name: services.sql.run_unload(unload_statement(prepared[name], attempt))
            for name in ("training_set", "scoring_set")}


def keep_landed_features(services: Services, execution_name: str = "tests") -> list[str]:
    """Compute and keep the feature rows of every landed week that has none (or stale ones), as UnloadFeatures and
    KeepFeatures do, for tests that query the sets' SQL directly. The weeks kept."""
    weeks = stale_weeks(services, landed_weeks(services))
    if weeks:
        unloaded = f"work/tests/{execution_name}/"
        services.sql.unload(features_sql(list(weeks)), unloaded, FEATURE_PARTITION)
        keep(services, unloaded, execution_name, weeks)
    return sorted(weeks)


def in_holdout(customer_id: str) -> bool:
    """athena_sql/training_set.sql's holdout draw, computed apart from it."""
    return int(hashlib.md5(f"holdout/{customer_id}".encode()).hexdigest()[:8], 16) < HOLDOUT_SHARE * 2 ** 32


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


def write_inference_output(services, week: dt.date, execution: str, rows: int, model_version: str = "v1",
                           probability: list[float] | None = None, plans: list[str] | None = None,
                           realized: dict | None = None) -> None:
    """What Inference leaves for Publish, as one shard: the predictions, the shard list and its segment totals;
    and what PrepareData measured of the scores published a horizon before (`realized`, None: nothing)."""
    probability = probability or [0.1] * rows
    predictions = pa.table({"customer_id": [f"c{i}" for i in range(rows)], "churn_probability": probability,
                            "risk_band": ["high" if p >= 0.5 else "low" for p in probability],
                            "model_version": [model_version] * rows, "snapshot_date": [week] * rows},
                           schema=table("predictions").arrow_schema())
    write_parquet(services.storage, f"{attempt_prefix('predictions', week, execution)}shard-00000.parquet",
                  predictions)
    run = Run(run_date=week, churn_horizon_weeks=services.settings.churn_horizon_weeks, model_version=model_version,
              execution_name=execution)
    record_inputs(services, run, week)
    write_json(services.storage, shard_list_key(run), [0])
    totals = SegmentTotals()
    segments = {"plan": pa.array(plans or ["basic"] * rows), "country": pa.nulls(rows), "device": pa.nulls(rows),
                "tenure_band": pa.array(["1-2y"] * rows)}
    totals.add(segments, np.array(probability), np.array(probability) >= 0.5)
    write_json(services.storage, segment_totals_key(run, 0), totals.to_document())
    write_json(services.storage, drift_counts_key(run, 0), {})
    write_execution_rows(services.storage, "realized_performance", week, execution, [realized] if realized else [])
