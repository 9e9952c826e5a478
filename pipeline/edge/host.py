"""The adapters this process runs with, chosen once, at the edge.

On AWS nothing is installed: a Lambda function or Fargate task builds the S3, Glue and Athena adapters from its
environment. A host that stands in for AWS (the local runtime) installs its own before it calls a handler or an
entrypoint, so handlers and entrypoints run unchanged in both places and never name the local runtime.
"""
from __future__ import annotations

from typing import Callable

from pipeline.core.settings import load_settings
from pipeline.warehouse.ports import Services

ServicesFactory = Callable[[], Services]
_host_services: ServicesFactory | None = None


def install_host(factory: ServicesFactory | None) -> None:
    """Called by a host that stands in for AWS (None: back to the AWS adapters)."""
    global _host_services
    _host_services = factory


def current_services() -> Services:
    if _host_services is not None:
        return _host_services()
    from pipeline.aws import aws_services  # only on AWS: a local host never loads boto3 and awswrangler

    return aws_services(load_settings())
