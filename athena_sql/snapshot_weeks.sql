-- The landed weeks a run reads ({{first_week}} to the run's week), for the data-quality checks before training.
SELECT
    snapshot_date,
    count(*) AS customers,
    count(DISTINCT customer_id) AS distinct_customers,
    sum(CASE WHEN sessions_7d > 0 THEN 1 ELSE 0 END) AS active_customers
FROM engagement.snapshots
WHERE snapshot_date BETWEEN DATE '{{first_week}}' AND DATE '{{run_date}}'
GROUP BY snapshot_date
ORDER BY snapshot_date
