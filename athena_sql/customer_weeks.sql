-- Snapshot rows from {{first_week}} to the run's week, with the features that need a customer's history.
-- Rows after {{run_date}} are never read, so a backfill of a past week sees what that week saw; rows before
-- {{first_week}} neither, so the work is bounded by the window, not by the length of history.
-- "Previous week" is the snapshot 7 days earlier, not the previous row: a week without a row means no
-- activity, as in the churn label (0 sessions); a row whose optional column is null stays null.
-- The window functions run over the few columns they read, then join back to the whole rows by key: linear in
-- the weeks read (no self-join per week back), and the engine never sorts the wide rows.
WITH history AS (
    SELECT
        customer_id,
        snapshot_date,
        CASE
            WHEN lag(snapshot_date, 1) OVER (PARTITION BY customer_id ORDER BY snapshot_date)
                 = date_add('day', -7, snapshot_date)
            THEN lag(sessions_7d, 1) OVER (PARTITION BY customer_id ORDER BY snapshot_date)
            ELSE 0
        END AS sessions_7d_prev_1w,
        CASE
            WHEN lag(snapshot_date, 1) OVER (PARTITION BY customer_id ORDER BY snapshot_date)
                 = date_add('day', -14, snapshot_date)
            THEN lag(sessions_7d, 1) OVER (PARTITION BY customer_id ORDER BY snapshot_date)
            WHEN lag(snapshot_date, 2) OVER (PARTITION BY customer_id ORDER BY snapshot_date)
                 = date_add('day', -14, snapshot_date)
            THEN lag(sessions_7d, 2) OVER (PARTITION BY customer_id ORDER BY snapshot_date)
            ELSE 0
        END AS sessions_7d_prev_2w,
        CASE
            WHEN lag(snapshot_date, 1) OVER (PARTITION BY customer_id ORDER BY snapshot_date)
                 = date_add('day', -7, snapshot_date)
            THEN lag(minutes_7d, 1) OVER (PARTITION BY customer_id ORDER BY snapshot_date)
            ELSE 0
        END AS minutes_7d_prev_1w
    FROM engagement.snapshots
    WHERE snapshot_date BETWEEN DATE '{{first_week}}' AND DATE '{{run_date}}'
)
SELECT
    s.*,
    h.sessions_7d_prev_1w,
    h.sessions_7d_prev_2w,
    h.minutes_7d_prev_1w,
    date_diff('day', s.signup_date, s.snapshot_date) AS tenure_days
FROM engagement.snapshots s
JOIN history h ON h.customer_id = s.customer_id AND h.snapshot_date = s.snapshot_date
WHERE s.snapshot_date BETWEEN DATE '{{first_week}}' AND DATE '{{run_date}}'
