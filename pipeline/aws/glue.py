"""The Catalog port on the Glue Data Catalog, through an injected boto3 client."""
from __future__ import annotations

import logging

from pipeline.core.settings import DATABASE
from pipeline.warehouse.tables import TableDef

logger = logging.getLogger(__name__)
GLUE_BATCH = 100  # partitions per BatchCreatePartition or BatchUpdatePartition call, Glue's limit
PARQUET_STORAGE = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
}


class GlueCatalog:
    """Partitions of the tables the SAM template creates, through an injected boto3 client."""

    def __init__(self, glue_client, database: str = DATABASE):
        self._glue = glue_client
        self.database = database

    def partitions(self, table: TableDef) -> dict[str, str]:
        paginator = self._glue.get_paginator("get_partitions")
        pages = paginator.paginate(DatabaseName=self.database, TableName=table.name)
        found = {part["Values"][0]: part["StorageDescriptor"]["Location"]
                 for page in pages for part in page["Partitions"]}
        return dict(sorted(found.items()))

    def put_partition(self, table: TableDef, value: str, location: str) -> None:
        partition = _partition_input(table, value, location)
        try:
            self._glue.create_partition(DatabaseName=self.database, TableName=table.name, PartitionInput=partition)
        except self._glue.exceptions.AlreadyExistsException:
            self._glue.update_partition(DatabaseName=self.database, TableName=table.name,
                                        PartitionValueList=[value], PartitionInput=partition)

    def register_partitions(self, table: TableDef, locations: dict[str, str]) -> None:
        """Many partitions of one table, GLUE_BATCH a call: created, or re-pointed where one exists already (so
        registering again is success, and the locations given win)."""
        items = sorted(locations.items())
        for start in range(0, len(items), GLUE_BATCH):
            batch = dict(items[start:start + GLUE_BATCH])
            created = self._glue.batch_create_partition(
                DatabaseName=self.database, TableName=table.name,
                PartitionInputList=[_partition_input(table, value, location) for value, location in batch.items()])
            existing = [error["PartitionValues"][0] for error in _errors(table, created, "AlreadyExistsException")]
            if existing:
                updated = self._glue.batch_update_partition(
                    DatabaseName=self.database, TableName=table.name,
                    Entries=[{"PartitionValueList": [value], "PartitionInput": _partition_input(table, value,
                                                                                              batch[value])}
                             for value in existing])
                _errors(table, updated)

    def publish_partitions(self, value: str, locations: dict[TableDef, str]) -> None:
        """Glue has no transaction across tables: re-point one after the other, and if one fails put back the
        ones already done. A process killed in between leaves a mix, which the publication record written before
        lets RecordFailure, the week's next Cleanup or `doctor --repair` finish (see pipeline.warehouse.publication)."""
        done: list[tuple[TableDef, str | None]] = []
        try:
            for table, location in locations.items():
                before = self._location(table, value)
                self.put_partition(table, value, location)
                done.append((table, before))
        except Exception:
            for table, before in reversed(done):
                try:
                    if before:
                        self.put_partition(table, value, before)
                    else:
                        self.drop_partition(table, value)
                except Exception:  # keep the original error; say what could not be put back
                    logger.exception("could not put back %s partition %s at %s", table.name, value, before)
            raise

    def _location(self, table: TableDef, value: str) -> str | None:
        try:
            partition = self._glue.get_partition(DatabaseName=self.database, TableName=table.name,
                                                 PartitionValues=[value])
        except self._glue.exceptions.EntityNotFoundException:
            return None
        return partition["Partition"]["StorageDescriptor"]["Location"]

    def drop_partition(self, table: TableDef, value: str) -> None:
        try:
            self._glue.delete_partition(DatabaseName=self.database, TableName=table.name, PartitionValues=[value])
        except self._glue.exceptions.EntityNotFoundException:
            pass


def _partition_input(table: TableDef, value: str, location: str) -> dict:
    return {"Values": [value], "StorageDescriptor": {**PARQUET_STORAGE, "Location": location,
                                                     "Columns": glue_columns(table.columns)}}


def _errors(table: TableDef, response: dict, expected: str | None = None) -> list[dict]:
    """The batch call's errors of the `expected` code; any other error is raised, naming its partitions."""
    errors = response.get("Errors", [])
    unexpected = [error for error in errors if error["ErrorDetail"]["ErrorCode"] != expected]
    if unexpected:
        named = "; ".join(f"{_values(error)}: {error['ErrorDetail']['ErrorCode']}: "
                          f"{error['ErrorDetail'].get('ErrorMessage', '')}" for error in unexpected[:5])
        raise RuntimeError(f"Glue refused {len(unexpected)} partition(s) of {table.qualified_name}: {named}")
    return errors


def _values(error: dict) -> str:
    return ",".join(error.get("PartitionValues") or error.get("PartitionValueList") or [])


def glue_columns(columns: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"Name": name, "Type": type_} for name, type_ in columns]
