-- The churn label of each customer's week from {{first_labelled_week}}, looking as far as {{run_date}}:
-- churned = 1 when the customer has no activity (sessions_7d = 0, or no row at all) in each of the next
-- {{churn_horizon_weeks}} weekly snapshots. Those snapshots are among the customer's next
-- {{churn_horizon_weeks}} rows (one row per week at most), so a bounded window frame finds them. A week whose
-- horizon reaches past {{run_date}} is labelled too: readers keep only the weeks whose horizon is complete.
SELECT
    customer_id,
    snapshot_date,
    CASE
        WHEN min(CASE WHEN sessions_7d > 0 THEN snapshot_date END) OVER (
                 PARTITION BY customer_id ORDER BY snapshot_date
                 ROWS BETWEEN 1 FOLLOWING AND {{churn_horizon_weeks}} FOLLOWING)
             <= date_add('day', 7 * {{churn_horizon_weeks}}, snapshot_date)
        THEN 0
        ELSE 1
    END AS churned
FROM engagement.snapshots
WHERE snapshot_date BETWEEN DATE '{{first_labelled_week}}' AND DATE '{{run_date}}'
