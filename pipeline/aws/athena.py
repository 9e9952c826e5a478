"""The SqlEngine port on Athena, through awswrangler. (The sets' UNLOADs are not here: the state machine runs
them, PrepareSets.)"""
from __future__ import annotations

import awswrangler as wr
import pyarrow as pa

from pipeline.settings import DATABASE


class AthenaEngine:
    """Athena through awswrangler."""

    def __init__(self, workgroup: str, boto3_session=None):
        self.workgroup = workgroup
        self.session = boto3_session

    def query(self, sql: str) -> pa.Table:
        frame = wr.athena.read_sql_query(sql, database=DATABASE, workgroup=self.workgroup, ctas_approach=False,
                                         boto3_session=self.session)
        return pa.Table.from_pandas(frame, preserve_index=False)
