-- One week's activity from engagement.events, as of the week's cut-off: the events of the local days before
-- {{week}}, never one of that day or later. A row per customer and kind of event, for every customer with an event
-- in the 90 days before the cut-off (the contract's widest window); pipeline/landing/events.py turns the kinds
-- into the snapshot's columns. An event sent twice (one event_id, in one upload or two) counts once.
-- first_seen is the customer's first event ever before the cut-off: the week's signup_date.
WITH windowed AS (
    SELECT customer_id, event_id, kind, local_date, local_hour, amount, minutes,
           date_diff('day', local_date, DATE '{{week}}') AS age,
           row_number() OVER (PARTITION BY event_id ORDER BY upload) AS copy
    FROM engagement.events
    WHERE local_date < DATE '{{week}}' AND local_date >= date_add('day', -90, DATE '{{week}}')
),
once AS (
    SELECT * FROM windowed WHERE copy = 1
),
first_seen AS (
    SELECT customer_id, min(local_date) AS first_seen
    FROM engagement.events
    WHERE local_date < DATE '{{week}}'
    GROUP BY customer_id
)
SELECT
    o.customer_id,
    o.kind,
    sum(CASE WHEN o.age <= 7 THEN 1 ELSE 0 END) AS events_7d,
    sum(CASE WHEN o.age <= 30 THEN 1 ELSE 0 END) AS events_30d,
    count(*) AS events_90d,
    count(DISTINCT CASE WHEN o.age <= 7 THEN o.local_date END) AS days_7d,
    count(DISTINCT CASE WHEN o.age <= 30 THEN o.local_date END) AS days_30d,
    sum(CASE WHEN o.age <= 7 THEN o.amount END) AS amount_7d,
    sum(CASE WHEN o.age <= 30 THEN o.amount END) AS amount_30d,
    sum(o.amount) AS amount_90d,
    sum(CASE WHEN o.age <= 7 THEN o.minutes END) AS minutes_7d,
    sum(CASE WHEN o.age <= 30 THEN o.minutes END) AS minutes_30d,
    sum(o.minutes) AS minutes_90d,
    sum(CASE WHEN o.age <= 30 AND day_of_week(o.local_date) IN (6, 7) THEN 1 ELSE 0 END) AS weekend_30d,
    sum(CASE WHEN o.age <= 30 AND o.local_hour < 5 THEN 1 ELSE 0 END) AS late_night_30d,
    min(o.age) AS days_since_last,
    min(f.first_seen) AS first_seen
FROM once o
JOIN first_seen f ON f.customer_id = o.customer_id
GROUP BY o.customer_id, o.kind
