"""The SqlEngine port on Athena, through awswrangler; `unload` lands Parquet under a prefix (UNLOAD)."""
from __future__ import annotations

import awswrangler as wr
import pyarrow as pa

from pipeline.ports import Storage
from pipeline.settings import DATABASE
from pipeline.storage import parquet_row_count


class AthenaEngine:
    """Athena through awswrangler; results of `unload` land as Parquet under the prefix (UNLOAD)."""

    def __init__(self, storage: Storage, workgroup: str, boto3_session=None):
        self.storage = storage
        self.workgroup = workgroup
        self.session = boto3_session

    def query(self, sql: str) -> pa.Table:
        frame = wr.athena.read_sql_query(sql, database=DATABASE, workgroup=self.workgroup, ctas_approach=False,
                                         boto3_session=self.session)
        return pa.Table.from_pandas(frame, preserve_index=False)

    def unload(self, sql: str, prefix: str, partition_by: str | None = None) -> int:
        self.storage.delete_prefix(prefix)
        wr.athena.unload(sql, path=self.storage.uri(prefix), database=DATABASE, workgroup=self.workgroup,
                         file_format="PARQUET", compression="zstd",
                         partitioned_by=[partition_by] if partition_by else None, boto3_session=self.session)
        return parquet_row_count(self.storage, prefix)
