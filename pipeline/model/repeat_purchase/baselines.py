"""BG/BB's and Pareto/NBD's AUC on some customers' patterns, beside the model's (scipy and scikit-learn: the
training image's)."""
from __future__ import annotations

import logging

import numpy as np
from sklearn.metrics import roc_auc_score

from pipeline.model.repeat_purchase import bg_bb, pareto_nbd
from pipeline.model.repeat_purchase.patterns import patterns_of

logger = logging.getLogger(__name__)

MODELS = {"bg_bb_auc": bg_bb, "pareto_nbd_auc": pareto_nbd}  # by their metric (AUC_METRICS)


def baseline_aucs(x: np.ndarray, t_x: np.ndarray, n: np.ndarray, churned: np.ndarray,
                  horizon_weeks: int) -> dict[str, float | None]:
    """Each model's AUC against `churned`, fitted on the customers' patterns (x active weeks after their first,
    t_x the last of them, n weeks after the first); None for a model whose fit gives no finite score (logged)."""
    pattern_of, patterns = patterns_of(x, t_x, n)
    aucs = {}
    for metric, model in MODELS.items():
        params = model.fit(patterns)
        scores = model.inactive_probability(params, patterns, horizon_weeks)[pattern_of]
        if not np.isfinite(scores).all():
            logger.warning("%s: the fit %s scored %d pattern(s) as NaN, so no AUC", metric, params,
                           int((~np.isfinite(scores)).sum()))
            aucs[metric] = None
            continue
        aucs[metric] = float(roc_auc_score(churned, scores))
    return aucs
