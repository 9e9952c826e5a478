-- Training rows: the labelled weeks of the training window, {{first_labelled_week}} to {{validation_week}}
-- (the newest week whose churn horizon is complete): their kept feature rows (engagement.features, made by
-- athena_sql/features.sql), labelled from the future (athena_sql/labels.sql) and sampled.
-- A share {{holdout_share}} of customers, drawn by a hash of customer_id alone (the same customers every week,
-- see pipeline/model/holdout.py), is the holdout: only its rows of {{validation_week}} are kept, in the
-- training_part 'holdout'; no week of theirs is ever fitted on.
-- Sampling keeps every row of the validation week and, in older weeks, a share {{older_weeks_rate}} of rows, of
-- which a share {{retained_rate}} of retained customers; sample_weight is 1 / (chance of being kept), so
-- weighted counts, and the model's probabilities, stay those of all rows.
-- The draws are hashes of (customer, week): the same rows on every engine and every re-run.
-- The holdout rows also carry each customer's weekly activity pattern up to {{validation_week}} (pattern_*, from
-- the snapshots of up to HISTORY_WEEKS, pipeline/model/repeat_purchase): what the repeat-purchase baselines are
-- fitted on; null on the fitted rows, and never a feature.
-- training_part (last, as UNLOAD requires) partitions the output: 'holdout', or the fitted rows' week; training
-- reads the parts it needs without filtering rows. Rows are ordered by customer within a week: the engine's order
-- varies from run to run, and XGBoost's row sampling follows row order, so this keeps a re-run's model the same.
WITH labels AS (
{{sql:labels}}
),
customer_weeks AS (
    SELECT * FROM engagement.features
    WHERE snapshot_date BETWEEN DATE '{{first_labelled_week}}' AND DATE '{{validation_week}}'
),
assigned AS (
    SELECT
        cw.*,
        l.churned,
        from_base(substr(to_hex(md5(to_utf8(concat('holdout/', cw.customer_id)))), 1, 8), 16)
            < {{holdout_share}} * 4294967296e0 AS in_holdout
    FROM customer_weeks cw
    JOIN labels l ON l.customer_id = cw.customer_id AND l.snapshot_date = cw.snapshot_date
    WHERE cw.snapshot_date BETWEEN DATE '{{first_labelled_week}}' AND DATE '{{validation_week}}'
),
-- The holdout's customers of {{validation_week}}, by the same draw as `assigned`'s, from that week's keys alone: a
-- second reference to `assigned` would make the engine hold all of it, every feature of every row, at once (at 1M
-- customers: 8.4 s of 31 s, and past its memory)
holdout_customers AS (
    SELECT customer_id
    FROM engagement.features
    WHERE snapshot_date = DATE '{{validation_week}}'
      AND from_base(substr(to_hex(md5(to_utf8(concat('holdout/', customer_id)))), 1, 8), 16)
          < {{holdout_share}} * 4294967296e0
),
holdout_activity AS (
    SELECT
        s.customer_id,
        date_diff('week', s.snapshot_date, DATE '{{validation_week}}') AS weeks_before,
        s.sessions_7d > 0 AS active
    FROM engagement.snapshots s
    JOIN holdout_customers h ON h.customer_id = s.customer_id
    WHERE s.snapshot_date BETWEEN DATE '{{first_pattern_week}}' AND DATE '{{validation_week}}'
),
first_rows AS (
    SELECT customer_id, max(weeks_before) AS weeks_after_first FROM holdout_activity GROUP BY customer_id
),
-- (x active weeks after the first row, t_x the last of them, n weeks after the first row): a missing week is quiet
patterns AS (
    SELECT
        a.customer_id,
        cast(sum(CASE WHEN a.active AND a.weeks_before < f.weeks_after_first THEN 1 ELSE 0 END) AS bigint)
            AS pattern_active_weeks,
        coalesce(f.weeks_after_first
                 - min(CASE WHEN a.active AND a.weeks_before < f.weeks_after_first THEN a.weeks_before END), 0)
            AS pattern_last_active_week,
        f.weeks_after_first AS pattern_weeks
    FROM holdout_activity a
    JOIN first_rows f ON f.customer_id = a.customer_id
    GROUP BY a.customer_id, f.weeks_after_first
),
weighted AS (
    SELECT
        a.*,
        CASE
            WHEN a.snapshot_date = DATE '{{validation_week}}' THEN 1e0
            WHEN a.churned = 1 THEN 1e0 / {{older_weeks_rate}}
            ELSE 1e0 / ({{older_weeks_rate}} * {{retained_rate}})
        END AS sample_weight
    FROM assigned a
    WHERE NOT a.in_holdout OR a.snapshot_date = DATE '{{validation_week}}'
)
SELECT
    w.*,
    p.pattern_active_weeks,
    p.pattern_last_active_week,
    p.pattern_weeks,
    CASE WHEN w.in_holdout THEN 'holdout' ELSE cast(w.snapshot_date AS varchar) END AS training_part
FROM weighted w
LEFT JOIN patterns p ON p.customer_id = w.customer_id
-- kept when a uniform draw in [0, 1) falls below the chance of being kept, 1 / sample_weight
WHERE w.sample_weight * from_base(substr(to_hex(md5(to_utf8(
          concat(w.customer_id, '/', cast(w.snapshot_date AS varchar))))), 1, 8), 16) < 4294967296e0
ORDER BY w.snapshot_date, w.customer_id
