-- Snapshot rows from {{first_week}} to the run's week, with the features that need a customer's history.
-- Rows after {{run_date}} are never read, so a backfill of a past week sees what that week saw; rows before
-- {{first_week}} neither, so the work is bounded by the window, not by the length of history. Each history
-- feature looks back a fixed 3 weeks at most (FEATURE_LOOKBACK_WEEKS before the window): features over "all
-- history so far" grow with the panel's age, so the older fitted weeks would see smaller values than the week
-- scored (measured: the model then fitted its first tree best and never improved). Each feature is documented
-- in pipeline/features.py (HISTORY_FEATURES).
-- Weeks are counted by week_number, whole weeks since a Monday before any data: a week without a row means no
-- activity, as in the churn label (0 sessions); a row whose optional column is null stays null.
-- The window functions run over the few columns they read, then join back to the whole rows by key: linear in
-- the weeks read (no self-join per week back), and the engine never sorts the wide rows.
-- The snapshot's columns come last, so snapshot_date (its partition column, last of s.*) ends the row, as the
-- UNLOAD of athena_sql/features.sql needs.
WITH weekly AS (
    SELECT
        customer_id,
        snapshot_date,
        date_diff('week', DATE '2000-01-03', snapshot_date) AS week_number,
        sessions_7d,
        minutes_7d,
        CASE WHEN sessions_7d > 0 THEN 1 ELSE 0 END AS active,
        lifetime_purchases, lifetime_revenue, lifetime_active_days,
        days_since_first_purchase, days_since_last_purchase, days_since_last_session,
        cast(date_diff('day', signup_date, snapshot_date) AS double) AS days
    FROM engagement.snapshots
    WHERE snapshot_date BETWEEN DATE '{{first_week}}' AND DATE '{{run_date}}'
),
history AS (
    SELECT
        customer_id,
        snapshot_date,
        CASE
            WHEN lag(week_number, 1) OVER (PARTITION BY customer_id ORDER BY week_number) = week_number - 1
            THEN lag(sessions_7d, 1) OVER (PARTITION BY customer_id ORDER BY week_number)
            ELSE 0
        END AS sessions_7d_prev_1w,
        CASE
            WHEN lag(week_number, 1) OVER (PARTITION BY customer_id ORDER BY week_number) = week_number - 2
            THEN lag(sessions_7d, 1) OVER (PARTITION BY customer_id ORDER BY week_number)
            WHEN lag(week_number, 2) OVER (PARTITION BY customer_id ORDER BY week_number) = week_number - 2
            THEN lag(sessions_7d, 2) OVER (PARTITION BY customer_id ORDER BY week_number)
            ELSE 0
        END AS sessions_7d_prev_2w,
        CASE
            WHEN lag(week_number, 1) OVER (PARTITION BY customer_id ORDER BY week_number) = week_number - 1
            THEN lag(minutes_7d, 1) OVER (PARTITION BY customer_id ORDER BY week_number)
            ELSE 0
        END AS minutes_7d_prev_1w,
        -- bigint, as glue/features.json says (Athena's sum of a bigint is one; DuckDB's is a HUGEINT)
        cast(sum(active) OVER (PARTITION BY customer_id ORDER BY week_number
                               RANGE BETWEEN 3 PRECEDING AND CURRENT ROW) AS bigint) AS active_weeks_4w,
        cast(sum(sessions_7d) OVER (PARTITION BY customer_id ORDER BY week_number
                                    RANGE BETWEEN 3 PRECEDING AND CURRENT ROW) AS bigint) AS sessions_4w,
        -- The whole-history features (LIFETIME_FEATURES): the snapshot's lifetime totals as rates and shares of the
        -- customer's own tenure (a week at least), so a long history and a short one compare; null where the data
        -- has no lifetime totals, and where it has no signup_date (CASE, not greatest(): DuckDB's skips a null,
        -- Athena's is null). Row by row, here beside the history: not a third pass joined back to the window's rows
        CAST(lifetime_purchases * 7 AS double) / CASE WHEN days < 7 THEN 7e0 ELSE days END AS purchases_per_week,
        CAST(lifetime_revenue * 7 AS double) / CASE WHEN days < 7 THEN 7e0 ELSE days END AS revenue_per_week,
        CAST(lifetime_active_days AS double) / CASE WHEN days < 1 THEN 1e0 ELSE days END AS active_day_share,
        CAST(days_since_last_purchase AS double) / CASE WHEN days < 1 THEN 1e0 ELSE days END AS purchase_recency_share,
        nullif(lifetime_purchases, 0) - 1 AS repeat_purchases,
        days_since_first_purchase - days_since_last_purchase AS repeat_span_days,
        CAST(lifetime_revenue AS double) / nullif(lifetime_purchases, 0) AS mean_spend,
        CAST(lifetime_purchases * days_since_last_purchase AS double) / CASE WHEN days < 7 THEN 7e0 ELSE days END
            AS missed_purchases,
        CAST(lifetime_active_days * days_since_last_session AS double) / CASE WHEN days < 1 THEN 1e0 ELSE days END
            AS missed_active_days
    FROM weekly
)
SELECT
    h.sessions_7d_prev_1w,
    h.sessions_7d_prev_2w,
    h.minutes_7d_prev_1w,
    h.active_weeks_4w,
    h.sessions_4w,
    date_diff('day', s.signup_date, s.snapshot_date) AS tenure_days,
    h.purchases_per_week,
    h.revenue_per_week,
    h.active_day_share,
    h.purchase_recency_share,
    h.repeat_purchases,
    h.repeat_span_days,
    h.mean_spend,
    h.missed_purchases,
    h.missed_active_days,
    s.*
FROM engagement.snapshots s
JOIN history h ON h.customer_id = s.customer_id AND h.snapshot_date = s.snapshot_date
WHERE s.snapshot_date BETWEEN DATE '{{first_week}}' AND DATE '{{run_date}}'
