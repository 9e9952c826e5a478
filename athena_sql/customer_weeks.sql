-- Every snapshot row up to the run's week, with the features that need a customer's history.
-- Rows after {{run_date}} are never read, so a backfill of a past week sees what that week saw.
-- "Previous week" is the snapshot 7 days earlier, not the previous row: a week without a row means no
-- activity, as in the churn label (0 sessions); a row whose optional column is null stays null.
SELECT
    s.*,
    CASE WHEN prev_1w.customer_id IS NULL THEN 0 ELSE prev_1w.sessions_7d END AS sessions_7d_prev_1w,
    CASE WHEN prev_2w.customer_id IS NULL THEN 0 ELSE prev_2w.sessions_7d END AS sessions_7d_prev_2w,
    CASE WHEN prev_1w.customer_id IS NULL THEN 0 ELSE prev_1w.minutes_7d END AS minutes_7d_prev_1w,
    date_diff('day', s.signup_date, s.snapshot_date) AS tenure_days
FROM engagement.snapshots s
LEFT JOIN engagement.snapshots prev_1w
  ON prev_1w.customer_id = s.customer_id AND prev_1w.snapshot_date = date_add('day', -7, s.snapshot_date)
LEFT JOIN engagement.snapshots prev_2w
  ON prev_2w.customer_id = s.customer_id AND prev_2w.snapshot_date = date_add('day', -14, s.snapshot_date)
WHERE s.snapshot_date <= DATE '{{run_date}}'
