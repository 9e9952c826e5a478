"""From prepared rows to the model's feature matrix, identically at training and at inference."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from pipeline.contract import COLUMNS, KEY_COLUMN

LABEL_COLUMN = "churned"
# Identifiers, dates and bookkeeping: never features (signup_date reaches the model as tenure_days).
NOT_FEATURES = {KEY_COLUMN, "snapshot_date", "signup_date", LABEL_COLUMN, "shard"}
CATEGORICAL_COLUMNS = tuple(c.name for c in COLUMNS if c.type == "string" and c.name != KEY_COLUMN)
MAX_CATEGORIES = 100  # rarer values share the "unseen" bucket (NaN) rather than growing the model


@dataclass(frozen=True)
class FeatureSpec:
    numeric: list[str]
    categories: dict[str, list[str]]

    @property
    def names(self) -> list[str]:
        return [*self.numeric, *self.categories]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, document: dict) -> "FeatureSpec":
        return cls(numeric=list(document["numeric"]), categories=dict(document["categories"]))


def fit_feature_spec(training: pd.DataFrame) -> FeatureSpec:
    """The features a training set supports: columns with at least one value (real data lacks many)."""
    usable = [name for name in training.columns if name not in NOT_FEATURES and training[name].notna().any()]
    categorical = {name: _frequent_values(training[name]) for name in usable if name in CATEGORICAL_COLUMNS}
    numeric = [name for name in usable if name not in categorical]
    return FeatureSpec(numeric=numeric, categories=categorical)


def _frequent_values(values: pd.Series) -> list[str]:
    return sorted(values.dropna().astype(str).value_counts().head(MAX_CATEGORIES).index)


def feature_matrix(rows: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """Columns in the spec's order; absent columns become missing values, unseen categories too."""
    columns = {}
    for name in spec.numeric:
        values = rows[name] if name in rows.columns else pd.Series(np.nan, index=rows.index)
        columns[name] = pd.to_numeric(values.astype("Float64"), errors="coerce").astype("float32")
    for name, categories in spec.categories.items():
        values = rows[name].astype("string") if name in rows.columns else pd.Series(pd.NA, index=rows.index)
        columns[name] = pd.Categorical(values.where(values.isin(categories)), categories=categories)
    return pd.DataFrame(columns, index=rows.index)
