"""The cap on training rows: past `MAX_TRAINING_ROWS` fitted rows, Training keeps a sample, stratified by class,
and weights each kept row by 1 / its chance of being kept, so weighted counts (and the model's probabilities)
stay those of all rows. Churners, the rarer class, are kept first: up to half the cap, the rest of it from the
retained. The draw is a generator seeded per file, so both of XGBoost's passes over the rows, and a re-run, keep
the same rows. The holdout is never capped: it is what the model is judged on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import pyarrow as pa

from pipeline.model.features import LABEL_COLUMN, WEIGHT_COLUMN
from pipeline.warehouse.objects import parquet_batches

SEED = 20


@dataclass(frozen=True)
class KeepRates:
    churned: float = 1.0
    retained: float = 1.0

    @property
    def keeps_all(self) -> bool:
        return self.churned == self.retained == 1.0

    def mask_and_weights(self, labels: np.ndarray, weights: np.ndarray | None,
                         draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which rows are kept (a draw below their class's rate), and their weights scaled back up."""
        rate = np.where(labels == 1, self.churned, self.retained)
        kept = draws < rate
        scaled = (np.ones(len(labels)) if weights is None else weights) / rate
        return kept, scaled[kept]


def keep_rates(churned: int, rows: int, max_rows: int) -> KeepRates:
    """The per-class chances of keeping a row so that about max_rows are kept: every churner up to half the cap,
    the retained filling the rest."""
    if rows <= max_rows:
        return KeepRates()
    retained = rows - churned
    churned_kept = min(churned, max_rows // 2)
    return KeepRates(churned_kept / churned if churned else 1.0,
                     min(1.0, (max_rows - churned_kept) / retained) if retained else 1.0)


def capped_batches(paths: list[str], rates: KeepRates) -> Iterator[tuple[pa.RecordBatch, np.ndarray | None]]:
    """The files' rows batch by batch, the kept ones only, each batch with its rows' weights (None: as read)."""
    for index, path in enumerate(paths):
        draws = np.random.default_rng([SEED, index])
        for rows in parquet_batches([path]):
            weights = rows.column(WEIGHT_COLUMN).to_numpy() if WEIGHT_COLUMN in rows.schema.names else None
            if rates.keeps_all:
                yield rows, weights
                continue
            kept, kept_weights = rates.mask_and_weights(rows.column(LABEL_COLUMN).to_numpy(), weights,
                                                        draws.random(rows.num_rows))
            yield rows.filter(pa.array(kept)), kept_weights
