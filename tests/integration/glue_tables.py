"""The Glue database and tables the SAM template creates, made on moto from the same glue/*.json."""
from pipeline.aws.glue import PARQUET_STORAGE, glue_columns
from pipeline.core.settings import DATABASE
from pipeline.warehouse.tables import TableDef, table_definitions


def create_glue_tables(glue_client, warehouse_root: str) -> None:
    glue_client.create_database(DatabaseInput={"Name": DATABASE})
    for table in table_definitions().values():
        glue_client.create_table(DatabaseName=DATABASE, TableInput=_table_input(table, warehouse_root))


def _table_input(table: TableDef, warehouse_root: str) -> dict:
    return {
        "Name": table.name,
        "Description": table.description,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE"},
        "PartitionKeys": glue_columns(table.partition_keys),
        "StorageDescriptor": {**PARQUET_STORAGE, "Location": f"{warehouse_root}/{table.location}",
                              "Columns": glue_columns(table.columns)},
    }
