-- Training rows: the labelled weeks of the training window, {{first_labelled_week}} to {{validation_week}}
-- (the newest week whose churn horizon is complete), labelled from the future and sampled.
-- churned = 1 when the customer has no activity (sessions_7d = 0, or no row at all) in each of the next
-- {{churn_horizon_weeks}} weekly snapshots. Those snapshots are among the customer's next
-- {{churn_horizon_weeks}} rows (one row per week at most), so a bounded window frame finds them.
-- Sampling keeps every row of the validation week (it is the measure) and, in older weeks, a share
-- {{older_weeks_rate}} of rows, of which a share {{retained_rate}} of retained customers; sample_weight is
-- 1 / (chance of being kept), so weighted counts, and the model's probabilities, stay those of all rows.
-- The draw is a hash of (customer, week): the same rows on every engine and every re-run.
-- training_week (a copy of snapshot_date, last, as UNLOAD requires) partitions the output: training reads
-- the weeks it needs without filtering rows. Rows are ordered by customer within a week: the engine's order
-- varies from run to run, and XGBoost's row sampling follows row order, so this keeps a re-run's model the same.
WITH labels AS (
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
),
customer_weeks AS (
{{sql:customer_weeks}}
),
weighted AS (
    SELECT
        cw.*,
        l.churned,
        CASE
            WHEN cw.snapshot_date = DATE '{{validation_week}}' THEN 1e0
            WHEN l.churned = 1 THEN 1e0 / {{older_weeks_rate}}
            ELSE 1e0 / ({{older_weeks_rate}} * {{retained_rate}})
        END AS sample_weight
    FROM customer_weeks cw
    JOIN labels l ON l.customer_id = cw.customer_id AND l.snapshot_date = cw.snapshot_date
    WHERE cw.snapshot_date BETWEEN DATE '{{first_labelled_week}}' AND DATE '{{validation_week}}'
)
SELECT w.*, w.snapshot_date AS training_week
FROM weighted w
-- kept when a uniform draw in [0, 1) falls below the chance of being kept, 1 / sample_weight
WHERE w.sample_weight * from_base(substr(to_hex(md5(to_utf8(
          concat(w.customer_id, '/', cast(w.snapshot_date AS varchar))))), 1, 8), 16) < 4294967296e0
ORDER BY w.snapshot_date, w.customer_id
