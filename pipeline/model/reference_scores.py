"""The AUC of a week's reference scores: the true churn probabilities, when someone knows them (the synthetic
generator does, from each customer's latent state). Never a feature and never cataloged: a yardstick only."""
from __future__ import annotations

import datetime as dt

import pandas as pd
from sklearn.metrics import roc_auc_score

from pipeline.model.features import LABEL_COLUMN
from pipeline.warehouse.layout import reference_scores_key
from pipeline.warehouse.objects import read_parquet
from pipeline.warehouse.ports import Storage


def reference_auc(storage: Storage, validation: pd.DataFrame, validation_week: dt.date,
                  churn_horizon_weeks: int) -> float | None:
    """AUC of the week's reference scores, when someone knows the true probabilities: on synthetic data the
    generator does, from each customer's latent state: no model of the snapshots reaches it (on the default
    panel the best one can is about 0.012 lower: `python -m tools.research.observable_ceiling`).

    Storage only (the task role grants S3, not Glue): a landing the scores describe that is gone was replaced.
    """
    key = reference_scores_key(validation_week)
    if not storage.exists(key):
        return None  # real data: nobody knows the true probabilities
    reference = read_parquet(storage, key)
    described = reference.schema.metadata or {}
    landing = described.get(b"snapshot_key", b"").decode()
    if not landing or not storage.exists(landing):
        return None  # the week was landed again since (which retires the old landing): other data
    if described.get(b"churn_horizon_weeks", b"").decode() != str(churn_horizon_weeks):
        return None  # scores for another horizon answer another question
    joined = validation.merge(reference.to_pandas(), on="customer_id", how="inner", suffixes=("", "_reference"))
    if len(joined) != len(validation):
        return None
    return float(roc_auc_score(joined[LABEL_COLUMN], joined["churn_probability_reference"]))
