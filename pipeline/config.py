"""Runtime configuration, read once at the edge from environment variables.

PIPELINE_RUNTIME   local (default) or aws
PIPELINE_HOME      local data directory (default: <repo>/local_data), stands in for S3 + the Glue catalog
PIPELINE_BUCKET    S3 bucket holding data, models and results (aws runtime)
ATHENA_WORKGROUP   Athena workgroup (aws runtime, default: primary)
CHURN_HORIZON_WEEKS  weeks without activity that define churn (default 4)
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
DATABASE = "engagement"
DEFAULT_CHURN_HORIZON_WEEKS = 4


@dataclass(frozen=True)
class Settings:
    runtime: str
    home: Path
    bucket: str | None
    athena_workgroup: str
    churn_horizon_weeks: int

    @property
    def warehouse_root(self) -> str:
        """Where data, models and results live: a local folder or an S3 bucket."""
        if self.runtime == "aws":
            return f"s3://{self.bucket}"
        return str(self.home / "warehouse")


def positive_int(value: object) -> int | None:
    """`value` as a whole number >= 1 (from text, JSON or an int), or None if it is not one."""
    if isinstance(value, bool) or not str(value).isdigit() or int(value) < 1:
        return None
    return int(value)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    runtime = env.get("PIPELINE_RUNTIME", "local")
    if runtime not in ("local", "aws"):
        raise ConfigError(f"PIPELINE_RUNTIME must be 'local' or 'aws', got {runtime!r}")
    bucket = env.get("PIPELINE_BUCKET")
    if runtime == "aws" and not bucket:
        raise ConfigError("PIPELINE_BUCKET must be set when PIPELINE_RUNTIME=aws")
    horizon = env.get("CHURN_HORIZON_WEEKS", str(DEFAULT_CHURN_HORIZON_WEEKS))
    if positive_int(horizon) is None:
        raise ConfigError(f"CHURN_HORIZON_WEEKS must be a positive integer, got {horizon!r}")
    return Settings(
        runtime=runtime,
        home=Path(env.get("PIPELINE_HOME", REPO_ROOT / "local_data")).resolve(),
        bucket=bucket,
        athena_workgroup=env.get("ATHENA_WORKGROUP", "primary"),
        churn_horizon_weeks=int(horizon),
    )
