-- One week's activity from engagement.events, as of the week's cut-off: the events of the local days before
-- {{week}}, never one of that day or later. A row per customer and kind of event, for every customer with an event
-- in the 90 days before the cut-off (the contract's widest window): the kind's counts in the windows, and over the
-- customer's whole history before the cut-off (its lifetime totals, and the days since its first and last event).
-- pipeline/landing/events.py turns the kinds into the snapshot's columns. An event sent twice (one event_id, in one
-- upload or two) counts once. Sums are rounded to 6 decimals: the engines add in parallel, in no set order, and a
-- week built again from the same events must come out the same.
WITH before_cut_off AS (
    SELECT customer_id, kind, local_date, local_hour, amount, minutes,
           date_diff('day', local_date, DATE '{{week}}') AS age,
           row_number() OVER (PARTITION BY event_id ORDER BY upload) AS copy
    FROM engagement.events
    WHERE local_date < DATE '{{week}}'
),
once AS (
    SELECT * FROM before_cut_off WHERE copy = 1
),
present AS (
    SELECT DISTINCT customer_id FROM once WHERE age <= 90
)
SELECT
    o.customer_id,
    o.kind,
    sum(CASE WHEN o.age <= 7 THEN 1 ELSE 0 END) AS events_7d,
    sum(CASE WHEN o.age <= 30 THEN 1 ELSE 0 END) AS events_30d,
    sum(CASE WHEN o.age <= 90 THEN 1 ELSE 0 END) AS events_90d,
    count(DISTINCT CASE WHEN o.age <= 7 THEN o.local_date END) AS days_7d,
    count(DISTINCT CASE WHEN o.age <= 30 THEN o.local_date END) AS days_30d,
    round(sum(CASE WHEN o.age <= 7 THEN o.amount END), 6) AS amount_7d,
    round(sum(CASE WHEN o.age <= 30 THEN o.amount END), 6) AS amount_30d,
    round(sum(CASE WHEN o.age <= 90 THEN o.amount END), 6) AS amount_90d,
    round(sum(CASE WHEN o.age <= 7 THEN o.minutes END), 6) AS minutes_7d,
    round(sum(CASE WHEN o.age <= 30 THEN o.minutes END), 6) AS minutes_30d,
    round(sum(CASE WHEN o.age <= 90 THEN o.minutes END), 6) AS minutes_90d,
    sum(CASE WHEN o.age <= 30 AND day_of_week(o.local_date) IN (6, 7) THEN 1 ELSE 0 END) AS weekend_30d,
    sum(CASE WHEN o.age <= 30 AND o.local_hour < 5 THEN 1 ELSE 0 END) AS late_night_30d,
    count(*) AS lifetime_events,
    round(sum(o.amount), 6) AS lifetime_amount,
    count(DISTINCT o.local_date) AS lifetime_days,
    min(o.age) AS days_since_last,
    max(o.age) AS days_since_first
FROM once o
JOIN present p ON p.customer_id = o.customer_id
GROUP BY o.customer_id, o.kind
