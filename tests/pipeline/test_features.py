import numpy as np
import pandas as pd

from pipeline.features import feature_matrix, fit_feature_spec


def test_spec_keeps_columns_with_values_and_never_identifiers():
    training = pd.DataFrame({
        "customer_id": ["a", "b"], "snapshot_date": ["2026-01-05"] * 2, "churned": [0, 1],
        "sessions_7d": [1, 0], "revenue_90d": [None, None], "plan": ["free", "premium"],
    })
    spec = fit_feature_spec(training)
    assert spec.numeric == ["sessions_7d"]  # revenue_90d has no value at all: not a feature
    assert spec.categories == {"plan": ["free", "premium"]}


def test_matrix_at_inference_matches_training_columns_whatever_the_input():
    spec = fit_feature_spec(pd.DataFrame({"customer_id": ["a"], "sessions_7d": [3], "plan": ["free"],
                                          "push_enabled": [True], "churned": [0]}))
    scoring = pd.DataFrame({"customer_id": ["x", "y"], "plan": ["free", "gold"], "extra": [1, 2]})
    matrix = feature_matrix(scoring, spec)
    assert list(matrix.columns) == spec.names == ["sessions_7d", "push_enabled", "plan"]
    assert np.isnan(matrix["sessions_7d"]).all()  # absent column: missing, not zero
    assert matrix["plan"].tolist()[0] == "free" and pd.isna(matrix["plan"].tolist()[1])  # unseen category
    assert list(matrix["plan"].cat.categories) == ["free"]
