-- Training rows: past snapshots whose churn horizon is complete, labelled from the future.
-- churned = 1 when the customer has no activity (sessions_7d = 0, or no row at all) in each of the next
-- {{churn_horizon_weeks}} weekly snapshots.
WITH customer_weeks AS (
{{sql:customer_weeks}}
),
future_activity AS (
    SELECT cur.customer_id, cur.snapshot_date, count(*) AS active_future_weeks
    FROM customer_weeks cur
    JOIN customer_weeks nxt
      ON nxt.customer_id = cur.customer_id
     AND nxt.snapshot_date > cur.snapshot_date
     AND nxt.snapshot_date <= date_add('day', 7 * {{churn_horizon_weeks}}, cur.snapshot_date)
    WHERE nxt.sessions_7d > 0
    GROUP BY cur.customer_id, cur.snapshot_date
)
SELECT
    cw.*,
    CASE WHEN fa.active_future_weeks IS NULL THEN 1 ELSE 0 END AS churned
FROM customer_weeks cw
LEFT JOIN future_activity fa
  ON fa.customer_id = cw.customer_id AND fa.snapshot_date = cw.snapshot_date
WHERE cw.snapshot_date <= date_add('day', -7 * {{churn_horizon_weeks}}, DATE '{{run_date}}')
