-- The days of upload {{upload}} of engagement.events (glue/event_days.json): its events summed by customer, kind and
-- local day, made once as the upload lands, so that no week reads or deduplicates the raw events again. Only the
-- events no earlier upload sent count (an event_id counts once, as first sent, whatever its time), and an event sent
-- twice within the upload counts once: its first copy by time, type and amount, so the result is deterministic.
-- "Earlier" is landing order: the uploads whose days are made (pipeline/landing/events.py makes them one upload at a
-- time, in order).
-- A day an earlier upload already has for the customer and kind (a late event) is not a new active day: new_day
-- says so, and athena_sql/event_weeks.sql counts active days by it, with no need to merge the uploads' days.
-- Both checks against earlier uploads are inner joins with this upload's keys on the right: the engines build their
-- hash table from the smaller side (DuckDB by its estimate, Athena from the right), so a weekly upload's memory holds
-- its own keys, not the whole log's. At 100M events, the days of a 1.3M-event upload took 3,232 MiB as anti-joins,
-- and take 733 MiB so.
-- Counts are cast to bigint, as glue/event_days.json's columns are (DuckDB's count is a BIGINT, its sum a HUGEINT).
WITH sent_before AS (
    SELECT DISTINCT o.event_id
    FROM engagement.events o
    JOIN (SELECT DISTINCT event_id FROM engagement.events WHERE upload = '{{upload}}') u ON u.event_id = o.event_id
    WHERE o.upload <> '{{upload}}' AND o.upload IN (SELECT DISTINCT upload FROM engagement.event_days)
),
-- The hashes of the ids the upload holds more than once, if any: only their events are numbered by a window (the
-- first copy of each id), every other event is its id's only copy (two ids of different hashes differ), so the
-- upload is not sorted by id. At 100M events, numbering every event took 89 s; this split, 44 s.
-- The upload is read anew by each part, not through a shared CTE: DuckDB would hold a CTE read twice in memory.
repeated AS (
    SELECT xxhash64(to_utf8(event_id)) AS id_hash
    FROM engagement.events
    WHERE upload = '{{upload}}'
    GROUP BY xxhash64(to_utf8(event_id))
    HAVING count(*) > 1
),
firsts AS (
    SELECT event_id, customer_id, kind, local_date, local_hour, amount, minutes
    FROM engagement.events
    WHERE upload = '{{upload}}' AND xxhash64(to_utf8(event_id)) NOT IN (SELECT id_hash FROM repeated)
    UNION ALL
    SELECT event_id, customer_id, kind, local_date, local_hour, amount, minutes
    FROM (
        SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY event_time, event_type, amount) AS copy
        FROM engagement.events
        WHERE upload = '{{upload}}' AND xxhash64(to_utf8(event_id)) IN (SELECT id_hash FROM repeated)
    ) numbered
    WHERE copy = 1
),
summed AS (
    SELECT
        customer_id,
        kind,
        local_date,
        cast(count(*) AS bigint) AS events,
        sum(amount) AS amount,
        sum(minutes) AS minutes,
        cast(count(CASE WHEN local_hour < 5 THEN 1 END) AS bigint) AS late_night
    FROM firsts f
    WHERE NOT EXISTS (SELECT 1 FROM sent_before s WHERE s.event_id = f.event_id)
    GROUP BY customer_id, kind, local_date
),
known_days AS (
    SELECT DISTINCT o.customer_id, o.kind, o.local_date
    FROM engagement.event_days o
    JOIN (SELECT DISTINCT customer_id, kind, local_date FROM engagement.events WHERE upload = '{{upload}}') u
        ON u.customer_id = o.customer_id AND u.kind = o.kind AND u.local_date = o.local_date
    WHERE o.upload <> '{{upload}}'
)
SELECT
    n.customer_id,
    n.kind,
    n.local_date,
    n.events,
    n.amount,
    n.minutes,
    n.late_night,
    k.customer_id IS NULL AS new_day
FROM summed n
LEFT JOIN known_days k ON k.customer_id = n.customer_id AND k.kind = n.kind AND k.local_date = n.local_date
