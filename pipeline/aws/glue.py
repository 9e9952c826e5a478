"""The Catalog port on the Glue Data Catalog, through an injected boto3 client."""
from __future__ import annotations

from pipeline.settings import DATABASE
from pipeline.tables import TableDef, table_definitions

PARQUET_STORAGE = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
}


class GlueCatalog:
    """The Glue Data Catalog through an injected boto3 client; tables are created by `ensure_tables`."""

    def __init__(self, glue_client, warehouse_root: str, database: str = DATABASE):
        self._glue = glue_client
        self.root = warehouse_root
        self.database = database

    def ensure_tables(self) -> None:
        """Create the database and tables if absent (on AWS the SAM template creates them; tests use this)."""
        try:
            self._glue.create_database(DatabaseInput={"Name": self.database})
        except self._glue.exceptions.AlreadyExistsException:
            pass
        for table in table_definitions().values():
            try:
                self._glue.create_table(DatabaseName=self.database, TableInput=self._table_input(table))
            except self._glue.exceptions.AlreadyExistsException:
                pass

    def partitions(self, table: TableDef) -> dict[str, str]:
        paginator = self._glue.get_paginator("get_partitions")
        pages = paginator.paginate(DatabaseName=self.database, TableName=table.name)
        found = {part["Values"][0]: part["StorageDescriptor"]["Location"]
                 for page in pages for part in page["Partitions"]}
        return dict(sorted(found.items()))

    def put_partition(self, table: TableDef, value: str, location: str) -> None:
        partition = {"Values": [value], "StorageDescriptor": {**PARQUET_STORAGE, "Location": location,
                                                              "Columns": self._columns(table.columns)}}
        try:
            self._glue.create_partition(DatabaseName=self.database, TableName=table.name, PartitionInput=partition)
        except self._glue.exceptions.AlreadyExistsException:
            self._glue.update_partition(DatabaseName=self.database, TableName=table.name,
                                        PartitionValueList=[value], PartitionInput=partition)

    def drop_partition(self, table: TableDef, value: str) -> None:
        try:
            self._glue.delete_partition(DatabaseName=self.database, TableName=table.name, PartitionValues=[value])
        except self._glue.exceptions.EntityNotFoundException:
            pass

    @staticmethod
    def _columns(columns: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
        return [{"Name": name, "Type": type_} for name, type_ in columns]

    def _table_input(self, table: TableDef) -> dict:
        return {
            "Name": table.name,
            "Description": table.description,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE"},
            "PartitionKeys": self._columns(table.partition_keys),
            "StorageDescriptor": {**PARQUET_STORAGE, "Location": f"{self.root}/{table.location}",
                                  "Columns": self._columns(table.columns)},
        }
