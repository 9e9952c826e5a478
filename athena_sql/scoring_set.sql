-- Scoring rows: every customer of the run's week, with the same features as training, split into
-- {{shard_count}} shards for the inference Map by a hash of customer_id (no global sort: each row's shard is
-- its own; the partition column comes last, as UNLOAD requires).
WITH customer_weeks AS (
{{sql:customer_weeks}}
)
SELECT
    cw.*,
    mod(from_base(substr(to_hex(md5(to_utf8(cw.customer_id))), 1, 8), 16), {{shard_count}}) AS shard
FROM customer_weeks cw
WHERE cw.snapshot_date = DATE '{{run_date}}'
