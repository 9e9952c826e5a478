-- How the scores published for {{scored_week}} did, now that its labels are complete ({{churn_horizon_weeks}} weeks
-- on, at {{run_date}}): every customer scored that week against churned as athena_sql/labels.sql defines it. The
-- model that scored the week was fitted before any of these labels existed, so this is its true out-of-time
-- performance. Computed as pipeline/model/quality.py computes the holdout's: tied scores are one threshold of the
-- ROC and precision-recall curves (as in scikit-learn), the ECE uses 10 equal-width bins, and the top decile is
-- the round(10%) highest scores, ties broken by customer_id. One row; no row when the week was not published.
WITH labels AS (
{{sql:labels}}
),
scored AS (
    SELECT p.customer_id, p.churn_probability AS probability, p.model_version, l.churned
    FROM engagement.predictions p
    JOIN labels l ON l.customer_id = p.customer_id AND l.snapshot_date = p.run_date
    WHERE p.run_date = DATE '{{scored_week}}'
),
totals AS (
    SELECT
        count(*) AS customers,
        CAST(sum(churned) AS BIGINT) AS churners,
        avg(churned * 1e0) AS base_rate,
        avg((probability - churned) * (probability - churned)) AS brier,
        min(model_version) AS model_version,
        count(DISTINCT model_version) AS model_versions
    FROM scored
),
by_score AS (
    SELECT probability, count(*) AS customers, CAST(sum(churned) AS BIGINT) AS churners
    FROM scored
    GROUP BY probability
),
curves AS (
    SELECT
        churners,
        -- retained customers scored lower, plus half those tied: this score's share of the ROC area
        sum(customers - churners) OVER (ORDER BY probability ROWS UNBOUNDED PRECEDING)
            - 0.5e0 * (customers - churners) AS retained_below,
        -- precision at this score's threshold (everyone scored this or higher)
        CAST(sum(churners) OVER (ORDER BY probability DESC ROWS UNBOUNDED PRECEDING) AS DOUBLE)
            / sum(customers) OVER (ORDER BY probability DESC ROWS UNBOUNDED PRECEDING) AS precision_here
    FROM by_score
),
areas AS (
    SELECT sum(churners * retained_below) AS roc_area, sum(churners * precision_here) AS precision_area
    FROM curves
),
bins AS (
    SELECT count(*) AS customers, avg(probability) AS predicted, avg(churned * 1e0) AS observed
    FROM scored
    GROUP BY least(floor(probability * 10), 9)
),
calibration AS (
    SELECT sum(customers * abs(predicted - observed)) AS error FROM bins
),
ranked AS (
    SELECT churned, row_number() OVER (ORDER BY probability DESC, customer_id) AS position FROM scored
),
top_decile AS (
    SELECT avg(r.churned * 1e0) AS churn_rate
    FROM ranked r CROSS JOIN totals t
    WHERE r.position <= greatest(1, floor(t.customers * 0.1e0 + 0.5e0))
)
SELECT
    DATE '{{scored_week}}' AS scored_week,
    t.model_version,
    t.model_versions,
    t.customers,
    t.churners,
    t.base_rate,
    CAST(a.roc_area AS DOUBLE) / nullif(t.churners * (t.customers - t.churners), 0) AS auc,
    CAST(a.precision_area AS DOUBLE) / nullif(t.churners, 0) AS pr_auc,
    t.brier,
    CAST(c.error AS DOUBLE) / t.customers AS ece,
    CAST(d.churn_rate AS DOUBLE) / nullif(t.base_rate, 0) AS lift_top_decile
FROM totals t CROSS JOIN areas a CROSS JOIN calibration c CROSS JOIN top_decile d
WHERE t.customers > 0
