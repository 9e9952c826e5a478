-- Does the model still hold up: each published week's holdout AUC (measured when its model was trained), the
-- realized AUC of the scores published a horizon before it (against their now-complete labels; null in the
-- first weeks), the best any model could reach (synthetic data only), log loss and row counts, newest first.
-- Parameters: weeks (how many of the newest published weeks).
SELECT
    m.run_date,
    m.auc AS holdout_auc,
    r.scored_week,
    r.auc AS realized_auc,
    m.bayes_auc,
    m.log_loss,
    m.base_rate,
    m.rows_trained,
    m.rows_scored,
    m.model_version
FROM engagement.model_metrics m
LEFT JOIN engagement.realized_performance r ON r.run_date = m.run_date
ORDER BY m.run_date DESC
LIMIT :weeks
