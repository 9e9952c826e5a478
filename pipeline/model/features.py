"""From prepared rows (Arrow batches) to the model's feature matrix, identically at training and at inference.

The matrix is float32, one column per feature: numeric values as they are, a categorical column as the code of
its value in the spec's category list (XGBoost reads it as categorical from `feature_types`).

It holds no NaN: a matrix with any missing value makes XGBoost keep its bins in a sparse layout about four times
the size of the dense one (measured: 1 KB against 254 B a row with 75 features), which is what bounds how many
rows a training task holds. So a missing number (or an absent column) becomes MISSING_NUMBER, below any real
value, which a tree splits off as it would a missing value; a missing, rare or unseen category becomes one more
category, "other", the last code.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.warehouse.contract import COLUMNS, KEY_COLUMN

# The features athena_sql/customer_weeks.sql computes from a customer's earlier weeks (a fixed 3 weeks back at
# most, so every week of the window sees the same depth of history; a week without a row counts as no activity):
# name -> (formula, why). Every other feature is a column of the snapshot itself (see the input contract), or
# tenure_days (days since signup_date).
HISTORY_FEATURES = {
    "sessions_7d_prev_1w": ("sessions_7d of the week before (0 without a row)", "last week's activity: a fall "
                            "from it is the strongest early sign"),
    "sessions_7d_prev_2w": ("sessions_7d two weeks before (0 without a row)", "the trend over two weeks"),
    "minutes_7d_prev_1w": ("minutes_7d of the week before (0 without a row)", "depth of use, not only visits"),
    "active_weeks_4w": ("weeks with sessions_7d > 0 among this one and the 3 before", "regularity, the frequency "
                        "of recency-frequency models, where one quiet week says little"),
    "sessions_4w": ("sum of sessions_7d over this week and the 3 before", "a month's activity, on data whose "
                    "snapshots hold only the week's counts"),
}
# The whole-history features athena_sql/customer_weeks.sql computes from the snapshot's lifetime totals (optional
# contract columns: ingest-events fills them from every event before the cut-off): name -> (formula, why). Rates and
# shares of the customer's own tenure, not totals: a total grows with the length of the history the data holds, so
# the older weeks a model is fitted on would see smaller ones than the week it scores.
LIFETIME_FEATURES = {
    "purchases_per_week": ("7 x lifetime_purchases / tenure_days (a week at least)", "how often the customer buys, "
                           "whatever their age: Pareto/NBD's purchase rate"),
    "revenue_per_week": ("7 x lifetime_revenue / tenure_days (a week at least)", "what they spend a week"),
    "active_day_share": ("lifetime_active_days / tenure_days", "how regular their visits are over their whole life"),
    "purchase_recency_share": ("days_since_last_purchase / tenure_days", "how long the silence is for them: long "
                               "for a weekly buyer, short for a yearly one"),
    "repeat_purchases": ("lifetime_purchases - 1 (none without a purchase)", "Pareto/NBD's frequency x: purchases "
                         "after the first"),
    "repeat_span_days": ("days_since_first_purchase - days_since_last_purchase", "Pareto/NBD's recency t_x: first "
                         "to last purchase"),
    "mean_spend": ("lifetime_revenue / lifetime_purchases", "the Gamma-Gamma model's monetary value"),
    "missed_purchases": ("lifetime_purchases x days_since_last_purchase / tenure_days", "the purchases the "
                         "customer's own rate expected during their silence: the heart of P(alive) in Pareto/NBD, "
                         "a product a tree would need many splits for"),
    "missed_active_days": ("lifetime_active_days x days_since_last_session / tenure_days", "the same for visits"),
}
TENURE_COLUMN = "tenure_days"
# LIFETIME_FEATURES' formulas for one row of plain values (a what-if row), as athena_sql/customer_weeks.sql computes
# them (tests/pipeline/model/test_features.py holds the two equal): name -> (the columns read, the formula).
# A tenure under a week (a day) counts as a week (a day); a count of no purchases makes no mean nor repeat.
_LIFETIME_FORMULAS: dict[str, tuple[tuple[str, ...], Callable[..., float | int | None]]] = {
    "purchases_per_week": (("lifetime_purchases", TENURE_COLUMN), lambda bought, days: 7 * bought / max(days, 7)),
    "revenue_per_week": (("lifetime_revenue", TENURE_COLUMN), lambda revenue, days: 7 * revenue / max(days, 7)),
    "active_day_share": (("lifetime_active_days", TENURE_COLUMN), lambda active, days: active / max(days, 1)),
    "purchase_recency_share": (("days_since_last_purchase", TENURE_COLUMN), lambda since, days: since / max(days, 1)),
    "repeat_purchases": (("lifetime_purchases",), lambda bought: bought - 1 if bought else None),
    "repeat_span_days": (("days_since_first_purchase", "days_since_last_purchase"), lambda first, last: first - last),
    "mean_spend": (("lifetime_revenue", "lifetime_purchases"), lambda revenue, bought: revenue / bought if bought
                   else None),
    "missed_purchases": (("lifetime_purchases", "days_since_last_purchase", TENURE_COLUMN),
                         lambda bought, since, days: bought * since / max(days, 7)),
    "missed_active_days": (("lifetime_active_days", "days_since_last_session", TENURE_COLUMN),
                           lambda active, since, days: active * since / max(days, 1)),
}
LABEL_COLUMN = "churned"
WEIGHT_COLUMN = "sample_weight"
# athena_sql/training_set.sql partitions the training set by it: the fitted rows' week, or the holdout
TRAINING_PART_COLUMN = "training_part"
HOLDOUT_COLUMN = "in_holdout"
FEATURE_VERSION_COLUMN = "feature_version"  # which definitions computed the kept row (glue/features.json)
# The holdout rows' weekly activity patterns (x, t_x, n), which the repeat-purchase baselines are fitted on
# (pipeline/model/repeat_purchase): a yardstick's input, never the model's.
PATTERN_COLUMNS = ("pattern_active_weeks", "pattern_last_active_week", "pattern_weeks")
# Identifiers, dates and bookkeeping: never features (signup_date reaches the model as tenure_days).
NOT_FEATURES = {KEY_COLUMN, "snapshot_date", "signup_date", LABEL_COLUMN, WEIGHT_COLUMN, TRAINING_PART_COLUMN,
                HOLDOUT_COLUMN, "shard", FEATURE_VERSION_COLUMN, *PATTERN_COLUMNS}
CATEGORICAL_COLUMNS = tuple(c.name for c in COLUMNS if c.type == "string" and c.name != KEY_COLUMN)
MAX_CATEGORIES = 100  # rarer values share the "other" category rather than growing the model
MISSING_NUMBER = np.finfo(np.float32).min

Rows = pa.Table | pa.RecordBatch


@dataclass(frozen=True)
class FeatureSpec:
    numeric: list[str]
    categories: dict[str, list[str]]

    @property
    def names(self) -> list[str]:
        return [*self.numeric, *self.categories]

    @property
    def feature_types(self) -> list[str]:
        return ["q"] * len(self.numeric) + ["c"] * len(self.categories)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, document: dict) -> "FeatureSpec":
        return cls(numeric=list(document["numeric"]), categories=dict(document["categories"]))


@dataclass
class _ColumnProfile:
    """What a pass over the training rows learns of the columns: which hold a value, how often each category."""
    order: list[str] = field(default_factory=list)
    with_values: set[str] = field(default_factory=set)
    value_counts: dict[str, Counter] = field(default_factory=dict)

    def add(self, rows: Rows) -> None:
        for name in rows.schema.names:
            if name in NOT_FEATURES:
                continue
            if name not in self.order:
                self.order.append(name)
            column = rows.column(name)
            if column.null_count < len(column):
                self.with_values.add(name)
            if name in CATEGORICAL_COLUMNS:
                counts = pc.value_counts(column.cast(pa.string()))
                self.value_counts.setdefault(name, Counter()).update(
                    {value: count for value, count in zip(counts.field("values").to_pylist(),
                                                          counts.field("counts").to_pylist()) if value is not None})


def fit_feature_spec(batches: Iterable[Rows]) -> FeatureSpec:
    """The features a training set supports, in one pass over its rows: columns with at least one value (real
    data lacks many); for a categorical one, its MAX_CATEGORIES most frequent values."""
    profile = _ColumnProfile()
    for rows in batches:
        profile.add(rows)
    usable = [name for name in profile.order if name in profile.with_values]
    categories = {name: _frequent_values(profile.value_counts[name]) for name in usable if name in CATEGORICAL_COLUMNS}
    return FeatureSpec(numeric=[name for name in usable if name not in categories], categories=categories)


def _frequent_values(counts: Counter) -> list[str]:
    frequent = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:MAX_CATEGORIES]
    return sorted(value for value, _ in frequent)


def feature_matrix(rows: Rows, spec: FeatureSpec) -> np.ndarray:
    """The rows' features as a float32 matrix in the spec's column order, without NaN (column-major: each
    column is filled in one contiguous write, and XGBoost reads either order)."""
    present = set(rows.schema.names)
    matrix = np.empty((rows.num_rows, len(spec.names)), dtype=np.float32, order="F")
    for index, name in enumerate(spec.numeric):
        matrix[:, index] = _numeric(rows.column(name)) if name in present else MISSING_NUMBER
    for index, (name, categories) in enumerate(spec.categories.items(), start=len(spec.numeric)):
        matrix[:, index] = _category_codes(rows.column(name), categories) if name in present else len(categories)
    return matrix


def row_matrix(row: dict[str, object], spec: FeatureSpec) -> np.ndarray:
    """One row given as plain values (a what-if row of the API) as feature_matrix would make it, without the
    per-column Arrow work that costs 6 ms for one row of 75 features."""
    numbers = [_number(row.get(name)) for name in spec.numeric]
    codes = [categories.index(row[name]) if row.get(name) in categories else len(categories)
             for name, categories in spec.categories.items()]
    return np.array([numbers + codes], dtype=np.float32)


def lifetime_features(row: dict[str, object]) -> dict[str, float | int]:
    """The LIFETIME_FEATURES of one row of plain values that has their columns (a what-if row); a feature whose
    columns the row lacks is left out, as the SQL's is null."""
    found = {}
    for name, (columns, formula) in _LIFETIME_FORMULAS.items():
        values = [row.get(column) for column in columns]
        value = None if None in values else formula(*values)
        if value is not None:
            found[name] = value
    return found


def _number(value: object) -> float:
    if value is None or value != value:  # missing, or NaN
        return MISSING_NUMBER
    return float(np.float32(value))


def _numeric(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    values = pc.fill_null(column.cast(pa.float32()), MISSING_NUMBER).to_numpy(zero_copy_only=False)
    return np.nan_to_num(values, nan=MISSING_NUMBER)  # a NaN in the data itself, too


def _category_codes(column: pa.Array | pa.ChunkedArray, categories: list[str]) -> np.ndarray:
    codes = pc.index_in(column.cast(pa.string()), value_set=pa.array(categories, pa.string()))
    return pc.fill_null(codes, len(categories)).to_numpy(zero_copy_only=False)  # "other": the last code
