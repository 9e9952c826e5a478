-- Scoring rows: every customer of the run's week, its kept feature rows as training reads them, split into
-- {{shard_count}} shards for the inference Map by a hash of customer_id (no global sort: each row's shard is
-- its own; the partition column comes last, as UNLOAD requires).
SELECT
    f.*,
    mod(from_base(substr(to_hex(md5(to_utf8(f.customer_id))), 1, 8), 16), {{shard_count}}) AS shard
FROM engagement.features f
WHERE f.snapshot_date = DATE '{{run_date}}'
