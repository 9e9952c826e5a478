-- Every snapshot row up to the run's week, with the features that need a customer's history.
-- Rows after {{run_date}} are never read, so a backfill of a past week sees what that week saw.
SELECT
    s.*,
    lag(s.sessions_7d, 1) OVER (PARTITION BY s.customer_id ORDER BY s.snapshot_date) AS sessions_7d_prev_1w,
    lag(s.sessions_7d, 2) OVER (PARTITION BY s.customer_id ORDER BY s.snapshot_date) AS sessions_7d_prev_2w,
    lag(s.minutes_7d, 1) OVER (PARTITION BY s.customer_id ORDER BY s.snapshot_date) AS minutes_7d_prev_1w,
    row_number() OVER (PARTITION BY s.customer_id ORDER BY s.snapshot_date) AS weeks_observed,
    date_diff('day', s.signup_date, s.snapshot_date) AS tenure_days
FROM engagement.snapshots s
WHERE s.snapshot_date <= DATE '{{run_date}}'
