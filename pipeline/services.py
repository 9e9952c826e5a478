"""Pick the runtime once, at the edge: storage, catalog and SQL engine for local or AWS."""
from __future__ import annotations

from dataclasses import dataclass

from pipeline.catalog import Catalog, GlueCatalog, LocalCatalog
from pipeline.config import Settings, load_settings
from pipeline.sql import AthenaEngine, DuckDbEngine, SqlEngine
from pipeline.storage import LocalStorage, S3Storage, Storage


@dataclass(frozen=True)
class Services:
    settings: Settings
    storage: Storage
    catalog: Catalog
    sql: SqlEngine


def build_services(settings: Settings | None = None, boto3_session=None) -> Services:
    settings = settings or load_settings()
    if settings.runtime == "aws":
        import boto3

        session = boto3_session or boto3.Session()
        storage = S3Storage(settings.bucket, session.client("s3"))
        catalog = GlueCatalog(session.client("glue"), storage.root)
        return Services(settings, storage, catalog, AthenaEngine(storage, settings.athena_workgroup, session))
    storage = LocalStorage(settings.warehouse_root)
    catalog = LocalCatalog(settings.home / "catalog.json")
    return Services(settings, storage, catalog, DuckDbEngine(catalog, storage))
