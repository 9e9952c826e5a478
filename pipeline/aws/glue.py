"""The Catalog port on the Glue Data Catalog, through an injected boto3 client."""
from __future__ import annotations

import logging

from pipeline.settings import DATABASE
from pipeline.tables import TableDef

logger = logging.getLogger(__name__)
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
        partition = {"Values": [value], "StorageDescriptor": {**PARQUET_STORAGE, "Location": location,
                                                              "Columns": glue_columns(table.columns)}}
        try:
            self._glue.create_partition(DatabaseName=self.database, TableName=table.name, PartitionInput=partition)
        except self._glue.exceptions.AlreadyExistsException:
            self._glue.update_partition(DatabaseName=self.database, TableName=table.name,
                                        PartitionValueList=[value], PartitionInput=partition)

    def publish_partitions(self, value: str, locations: dict[TableDef, str]) -> None:
        """Glue has no transaction across tables: re-point one after the other, and if one fails put back the
        ones already done. A process killed in between leaves a mix, which the publication record written before
        lets RecordFailure, the week's next Cleanup or `doctor --repair` finish (see pipeline.publication)."""
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


def glue_columns(columns: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"Name": name, "Type": type_} for name, type_ in columns]
