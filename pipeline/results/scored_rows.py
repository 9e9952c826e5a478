"""The rows a scored batch gives the `predictions` table and its spot-check sample, `qa_predictions` (with each
sampled customer's top reasons)."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from pipeline.model.explanations import in_qa_sample, top_reasons
from pipeline.model.features import TENURE_COLUMN
from pipeline.model.scorer import Scorer, scoring_matrix
from pipeline.results.weekly_summary import tenure_band
from pipeline.warehouse.tables import table


def prediction_rows(scorer: Scorer, rows: pa.RecordBatch, probability: np.ndarray,
                    band: np.ndarray) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({
        "customer_id": rows.column("customer_id").cast(pa.string()), "churn_probability": probability,
        "risk_band": band, "model_version": np.full(rows.num_rows, scorer.model_version),
        "snapshot_date": rows.column("snapshot_date")}, schema=table("predictions").arrow_schema())


def spot_check_rows(scorer: Scorer, rows: pa.RecordBatch, probability: np.ndarray,
                    band: np.ndarray) -> pa.RecordBatch:
    """The sample's rows of the batch, with their top reasons (exact SHAP: costly, so only for them)."""
    schema = table("qa_predictions").arrow_schema()
    sample = in_qa_sample(rows.column("customer_id"))
    rows = rows.filter(pa.array(sample))
    reasons = top_reasons(scorer.booster, scoring_matrix(rows, scorer.features), scorer.rounds)
    columns = {name: column_or_nulls(rows, name).cast(schema.field(name).type) for name in (
        "customer_id", "plan", "country", "device", "sessions_7d", "days_since_last_session", "snapshot_date")}
    columns |= {"churn_probability": probability[sample], "risk_band": band[sample],
                "tenure_band": tenure_band(column_or_nulls(rows, TENURE_COLUMN)),
                "model_version": np.full(rows.num_rows, scorer.model_version)}
    for rank, (names, contributions) in enumerate(reasons, start=1):
        columns |= {f"reason_{rank}": names, f"reason_{rank}_contribution": contributions}
    return pa.RecordBatch.from_pydict({name: columns[name] for name in schema.names}, schema=schema)


def column_or_nulls(rows: pa.RecordBatch, name: str) -> pa.Array:
    """The rows' column, or nulls where the scoring set has none (a snapshot may lack optional columns)."""
    return rows.column(name) if name in rows.schema.names else pa.nulls(rows.num_rows)
