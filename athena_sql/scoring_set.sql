-- Scoring rows: every customer of the run's week, with the same features as training, split into
-- {{shard_count}} shards for the inference Map (the partition column comes last, as UNLOAD requires).
WITH customer_weeks AS (
{{sql:customer_weeks}}
)
SELECT
    cw.*,
    mod(row_number() OVER (ORDER BY cw.customer_id), {{shard_count}}) AS shard
FROM customer_weeks cw
WHERE cw.snapshot_date = DATE '{{run_date}}'
