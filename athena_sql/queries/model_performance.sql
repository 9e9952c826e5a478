-- Does the model still hold up: validation AUC (and the best any model could reach, on synthetic data), log
-- loss and row counts of the newest published weeks, newest first.
-- Parameters: weeks (how many of the newest published weeks).
SELECT
    run_date,
    auc,
    bayes_auc,
    log_loss,
    base_rate,
    rows_trained,
    rows_scored,
    model_version
FROM engagement.model_metrics
ORDER BY run_date DESC
LIMIT :weeks
