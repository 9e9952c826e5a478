-- The rows of engagement.features for the landed weeks from {{first_feature_week}} to {{run_date}}: each
-- customer's week with the features of athena_sql/customer_weeks.sql, stamped with the definitions' version
-- (pipeline/warehouse/kept_features.py). A run computes only the weeks whose kept rows are missing or stale;
-- they read their own week and the 3 before it ({{first_week}} on), never a later one.
WITH customer_weeks AS (
{{sql:customer_weeks}}
)
SELECT '{{feature_version}}' AS feature_version, cw.*
FROM customer_weeks cw
WHERE cw.snapshot_date >= DATE '{{first_feature_week}}'
