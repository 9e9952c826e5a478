-- The days of upload {{upload}} of engagement.events (glue/event_days.json): its events summed by customer, kind and
-- local day, made once as the upload lands, so that no week reads or deduplicates the raw events again. Only the
-- events no earlier upload sent count (an event_id counts once, as first sent, whatever its time), and an event sent
-- twice within the upload counts once: its first copy by time, type and amount, so the result is deterministic.
-- "Earlier" is landing order: the uploads whose days are made (pipeline/landing/events.py makes them one upload at a
-- time, in order); their ids are read once, as an anti-join.
-- A day an earlier upload already has for the customer and kind (a late event) is not a new active day: new_day
-- says so, and athena_sql/event_weeks.sql counts active days by it, with no need to merge the uploads' days.
-- Counts are cast to bigint, as glue/event_days.json's columns are (DuckDB's count is a BIGINT, its sum a HUGEINT).
WITH sent_before AS (
    SELECT event_id
    FROM engagement.events
    WHERE upload <> '{{upload}}' AND upload IN (SELECT DISTINCT upload FROM engagement.event_days)
),
numbered AS (
    SELECT customer_id, kind, local_date, local_hour, amount, minutes,
           row_number() OVER (PARTITION BY event_id ORDER BY event_time, event_type, amount) AS copy
    FROM engagement.events e
    WHERE e.upload = '{{upload}}'
      AND NOT EXISTS (SELECT 1 FROM sent_before s WHERE s.event_id = e.event_id)
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
    FROM numbered
    WHERE copy = 1
    GROUP BY customer_id, kind, local_date
)
SELECT
    n.customer_id,
    n.kind,
    n.local_date,
    n.events,
    n.amount,
    n.minutes,
    n.late_night,
    NOT EXISTS (SELECT 1 FROM engagement.event_days o
                WHERE o.customer_id = n.customer_id AND o.kind = n.kind AND o.local_date = n.local_date
                  AND o.upload <> '{{upload}}') AS new_day
FROM summed n
