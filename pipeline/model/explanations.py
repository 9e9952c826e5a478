"""Why a customer's score is what it is: the features that raised the log-odds of churn most.

Two measures, chosen by what they cost (100,000 customers, a 65-tree model, this 2-core machine):
- exact TreeSHAP (XGBoost's pred_contribs): 338 us a customer (34 s for the 100,000; the score itself takes
  1.4 us). Computed for the spot-check sample (`in_qa_sample`, qa_predictions) only.
- approximate contributions (approx_contribs, Saabas: each split's change of the expected value along the row's
  path): 4.4 us a customer, 0.44 s for the 100,000. Every customer's top reasons in the serving store are these.
  They name the same top feature as exact TreeSHAP for 62% of customers, and 62% of the top three are shared:
  they lean towards features split near the root. The exact ones are the spot-check sample's.
"""
from __future__ import annotations

import zlib

import numpy as np
import pyarrow as pa

from pipeline.model.features import MISSING_NUMBER, FeatureSpec
from pipeline.model.lean_xgboost import xgb

REASONS = 3
QA_SAMPLE_PER_10000 = 100  # 1% of customers: 1,000 spot-check rows a week at 100K customers, 100K at 10M


def in_qa_sample(customer_ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The spot-check sample: a CRC-32 of the customer_id, so the same customers every week, on any machine."""
    return np.fromiter((zlib.crc32(value.encode()) % 10_000 < QA_SAMPLE_PER_10000
                        for value in customer_ids.cast(pa.string()).to_pylist()), dtype=bool,
                       count=len(customer_ids))


def top_reasons(booster: xgb.Booster, matrix: xgb.DMatrix, rounds: tuple[int, int],
                count: int = REASONS) -> list[tuple[pa.Array, pa.Array]]:
    """For each rank 1..count: (feature name, contribution) per row, the features with the largest positive
    contributions; null where fewer than `rank` features raised the score."""
    contributions = booster.predict(matrix, pred_contribs=True, iteration_range=rounds)
    # One column per feature, then the bias; an empty matrix comes back flat.
    contributions = contributions.reshape(matrix.num_row(), matrix.num_col() + 1)[:, :-1]
    order = np.argsort(-contributions, axis=1, kind="stable")[:, :count]
    values = np.take_along_axis(contributions, order, axis=1).astype("float64")
    names = np.asarray(matrix.feature_names, dtype=object)[order]
    raised = values > 0
    ranked = [(pa.array(names[:, rank], pa.string(), mask=~raised[:, rank]),
               pa.array(values[:, rank], pa.float64(), mask=~raised[:, rank])) for rank in range(order.shape[1])]
    unranked = (pa.nulls(matrix.num_row(), pa.string()), pa.nulls(matrix.num_row(), pa.float64()))
    return ranked + [unranked] * (count - len(ranked))  # a model of fewer features than `count`


def approximate_reasons(booster: xgb.Booster, matrix: xgb.DMatrix, values: np.ndarray, spec: FeatureSpec,
                        rounds: tuple[int, int], count: int = REASONS) -> list[list[tuple[str, object, float]]]:
    """Each row's top `count` reasons, (feature, the row's value of it, contribution), largest first: the features
    whose approximate contribution raised the score (fewer where fewer did). `values` is the feature_matrix the
    DMatrix was made from; a value is None where missing, a category's name for a categorical feature. Built from
    whole columns (numpy, then lists): per-element numpy access would cost more than the contributions."""
    contributions = booster.predict(matrix, pred_contribs=True, approx_contribs=True, iteration_range=rounds,
                                    validate_features=False)  # made with the spec's names, as the scores' matrix
    contributions = contributions.reshape(matrix.num_row(), matrix.num_col() + 1)[:, :-1]
    order = np.argsort(-contributions, axis=1, kind="stable")[:, :count]
    ranked = np.round(np.take_along_axis(contributions, order, axis=1).astype("float64"), 6)
    names = np.asarray(spec.names, dtype=object)
    columns = [list(zip(names[order[:, rank]].tolist(),
                        _shown(spec, order[:, rank], values[np.arange(len(order)), order[:, rank]]),
                        ranked[:, rank].tolist()))
               for rank in range(order.shape[1])]
    return [[reason for reason in reasons if reason[2] > 0] for reasons in zip(*columns)] if columns else \
        [[] for _ in range(matrix.num_row())]


def _shown(spec: FeatureSpec, feature_indices: np.ndarray, values: np.ndarray) -> list[object]:
    """The rows' values as a person reads them: None for a missing number, the category's name for a code."""
    numeric = len(spec.numeric)
    names = [*([None] * numeric), *(spec.categories[name] + ["other"] for name in spec.categories)]
    rounded = np.round(values.astype("float64"), 6).tolist()
    missing = (values == MISSING_NUMBER).tolist()
    return [None if gone else value if index < numeric else names[index][min(int(value), len(names[index]) - 1)]
            for index, value, gone in zip(feature_indices.tolist(), rounded, missing)]
