-- Snapshot rows from {{first_week}} to the run's week, with the features that need a customer's history.
-- Rows after {{run_date}} are never read, so a backfill of a past week sees what that week saw; rows before
-- {{first_week}} neither, so the work is bounded by the window, not by the length of history.
-- "Previous week" is the snapshot 7 days earlier, not the previous row: a week without a row means no
-- activity, as in the churn label (0 sessions); a row whose optional column is null stays null.
-- Window functions over each customer's rows keep this linear in the weeks read (a self-join per week back
-- would not be).
SELECT
    s.*,
    CASE
        WHEN lag(s.snapshot_date, 1) OVER (PARTITION BY s.customer_id ORDER BY s.snapshot_date)
             = date_add('day', -7, s.snapshot_date)
        THEN lag(s.sessions_7d, 1) OVER (PARTITION BY s.customer_id ORDER BY s.snapshot_date)
        ELSE 0
    END AS sessions_7d_prev_1w,
    CASE
        WHEN lag(s.snapshot_date, 1) OVER (PARTITION BY s.customer_id ORDER BY s.snapshot_date)
             = date_add('day', -14, s.snapshot_date)
        THEN lag(s.sessions_7d, 1) OVER (PARTITION BY s.customer_id ORDER BY s.snapshot_date)
        WHEN lag(s.snapshot_date, 2) OVER (PARTITION BY s.customer_id ORDER BY s.snapshot_date)
             = date_add('day', -14, s.snapshot_date)
        THEN lag(s.sessions_7d, 2) OVER (PARTITION BY s.customer_id ORDER BY s.snapshot_date)
        ELSE 0
    END AS sessions_7d_prev_2w,
    CASE
        WHEN lag(s.snapshot_date, 1) OVER (PARTITION BY s.customer_id ORDER BY s.snapshot_date)
             = date_add('day', -7, s.snapshot_date)
        THEN lag(s.minutes_7d, 1) OVER (PARTITION BY s.customer_id ORDER BY s.snapshot_date)
        ELSE 0
    END AS minutes_7d_prev_1w,
    date_diff('day', s.signup_date, s.snapshot_date) AS tenure_days
FROM engagement.snapshots s
WHERE s.snapshot_date BETWEEN DATE '{{first_week}}' AND DATE '{{run_date}}'
