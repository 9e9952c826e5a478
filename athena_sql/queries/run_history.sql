-- How the weekly runs went: the newest execution attempts, whether each succeeded, how long each state took,
-- rows in and out, and the error of those that failed.
-- Parameters: top_n (how many attempts, newest first).
SELECT
    run_date,
    execution_name,
    attempt,
    status,
    ended_at,
    duration_seconds,
    training_seconds,
    inference_seconds,
    customers,
    rows_scored,
    auc,
    failed_state,
    error
FROM engagement.runs
ORDER BY ended_at DESC, execution_name, attempt DESC
LIMIT :top_n
