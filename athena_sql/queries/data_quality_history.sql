-- Is the data still what the model learned from: every data-quality check of the newest published weeks, its
-- value beside its rule, newest week first and, within a week, what did not pass first. A failed error check
-- stops its run before anything is published, so it shows in engagement.runs (error), not here.
-- Parameters: weeks (how many of the newest published weeks).
WITH newest_weeks AS (
    SELECT DISTINCT run_date
    FROM engagement.data_quality
    ORDER BY run_date DESC
    LIMIT :weeks
)
SELECT
    q.run_date,
    q.check_name,
    q.value,
    q.threshold,
    q.passed,
    q.severity,
    q.stage
FROM engagement.data_quality q
JOIN newest_weeks w ON w.run_date = q.run_date
ORDER BY q.run_date DESC, q.passed, q.stage, q.check_name
