-- The weeks {{first_week}} to {{last_week}} (pipeline/landing/events.py chooses how many: at most 13) from
-- engagement.event_days (the events, each once, summed by customer, kind and local day as each upload landed), each
-- as of its cut-off: the days before the week's date, never that day or later. A row per customer and week, in the
-- contract's columns, for every customer with an event in the 90 days before the week's cut-off (the contract's
-- widest window): each kind's counts in its windows (0 for none), the sessions' active days, minutes and hours, the
-- purchases' revenue, and the lifetime totals over the customer's whole history before the cut-off.
-- Only the columns the mapping fills are made (kind_columns): those of the kinds it names, minutes and revenue
-- where it names their columns; pipeline/landing/events.py leaves the others empty. Sums are rounded to 6 decimals:
-- the engines add in parallel, in no set order, and a week built again from the same events must come out the same.
-- One statement builds many weeks, reading the days twice: the history before {{first_week}} is summed once
-- (`history`), and each week adds the days since (`recent`, which also holds its 90-day windows). A day joins at most
-- 13 weeks, and within 13 weeks every customer with an event since {{first_week}} is present. A day two uploads
-- both have counts once as an active day (new_day).
-- Counts are cast to bigint, as glue/contract columns are (DuckDB's sum of a bigint is a HUGEINT).
-- snapshot_date (last, as UNLOAD requires) partitions the output by week.
WITH weeks AS (
    SELECT CAST(w.week AS date) AS week
    FROM UNNEST(sequence(DATE '{{first_week}}', DATE '{{last_week}}', INTERVAL '7' DAY)) AS w(week)
),
recent AS (
    SELECT d.*, k.week, date_diff('day', d.local_date, k.week) AS age
    FROM engagement.event_days d
    JOIN weeks k ON d.local_date < k.week
        AND (d.local_date >= date_add('day', -90, k.week) OR d.local_date >= DATE '{{first_week}}')
    WHERE d.local_date >= date_add('day', -90, DATE '{{first_week}}') AND d.local_date < DATE '{{last_week}}'
),
present AS (
    SELECT DISTINCT customer_id, week FROM recent WHERE age <= 90
),
-- the whole history of the present customers only: a log's silent customers are most of its customers
history AS (
    SELECT
        customer_id,
        kind,
        min(local_date) AS first_day,
        cast(sum(CASE WHEN local_date < DATE '{{first_week}}' THEN events END) AS bigint) AS events,
        sum(CASE WHEN local_date < DATE '{{first_week}}' THEN amount END) AS amount,
        count(CASE WHEN local_date < DATE '{{first_week}}' AND new_day THEN 1 END) AS days,
        max(CASE WHEN local_date < DATE '{{first_week}}' THEN local_date END) AS last_day
    FROM engagement.event_days
    WHERE local_date < DATE '{{last_week}}' AND customer_id IN (SELECT customer_id FROM present)
    GROUP BY customer_id, kind
),
windows AS (
    SELECT
        customer_id,
        kind,
        week,
        cast(sum(CASE WHEN age <= 7 THEN events END) AS bigint) AS events_7d,
        cast(sum(CASE WHEN age <= 30 THEN events END) AS bigint) AS events_30d,
        cast(sum(CASE WHEN age <= 90 THEN events END) AS bigint) AS events_90d,
        count(CASE WHEN age <= 7 AND new_day THEN 1 END) AS days_7d,
        count(CASE WHEN age <= 30 AND new_day THEN 1 END) AS days_30d,
        round(sum(CASE WHEN age <= 7 THEN amount END), 6) AS amount_7d,
        round(sum(CASE WHEN age <= 30 THEN amount END), 6) AS amount_30d,
        round(sum(CASE WHEN age <= 90 THEN amount END), 6) AS amount_90d,
        round(sum(CASE WHEN age <= 7 THEN minutes END), 6) AS minutes_7d,
        round(sum(CASE WHEN age <= 30 THEN minutes END), 6) AS minutes_30d,
        round(sum(CASE WHEN age <= 90 THEN minutes END), 6) AS minutes_90d,
        cast(sum(CASE WHEN age <= 30 AND day_of_week(local_date) IN (6, 7) THEN events END) AS bigint) AS weekend_30d,
        cast(sum(CASE WHEN age <= 30 THEN late_night END) AS bigint) AS late_night_30d,
        -- since {{first_week}}: what the week adds to the history before the batch (its days apart from those)
        cast(sum(CASE WHEN local_date >= DATE '{{first_week}}' THEN events END) AS bigint) AS new_events,
        sum(CASE WHEN local_date >= DATE '{{first_week}}' THEN amount END) AS new_amount,
        count(CASE WHEN local_date >= DATE '{{first_week}}' AND new_day THEN 1 END) AS new_days,
        max(local_date) AS last_day
    FROM recent
    GROUP BY customer_id, kind, week
),
kinds AS (
    SELECT
        h.customer_id,
        h.kind,
        coalesce(w.events_7d, 0) AS events_7d,
        coalesce(w.events_30d, 0) AS events_30d,
        coalesce(w.events_90d, 0) AS events_90d,
        coalesce(w.days_7d, 0) AS days_7d,
        coalesce(w.days_30d, 0) AS days_30d,
        w.amount_7d,
        w.amount_30d,
        w.amount_90d,
        w.minutes_7d,
        w.minutes_30d,
        w.minutes_90d,
        coalesce(w.weekend_30d, 0) AS weekend_30d,
        coalesce(w.late_night_30d, 0) AS late_night_30d,
        coalesce(h.events, 0) + coalesce(w.new_events, 0) AS lifetime_events,
        CASE WHEN h.amount IS NOT NULL OR w.new_amount IS NOT NULL
             THEN round(coalesce(h.amount, 0) + coalesce(w.new_amount, 0), 6) END AS lifetime_amount,
        h.days + coalesce(w.new_days, 0) AS lifetime_days,
        -- the week's own latest day when it has one: its days are later than the history before the batch
        date_diff('day', coalesce(w.last_day, h.last_day), p.week) AS days_since_last,
        date_diff('day', h.first_day, p.week) AS days_since_first,
        p.week
    FROM present p
    -- a present customer's kinds: each one it had an event of before the week
    JOIN history h ON h.customer_id = p.customer_id AND h.first_day < p.week
    LEFT JOIN windows w ON w.customer_id = h.customer_id AND w.kind = h.kind AND w.week = p.week
)
SELECT
    customer_id,
    -- a customer's first event, of any kind
    CAST(date_add('day', -max(days_since_first), week) AS date) AS signup_date,
    -- the contract's columns of the kinds the mapping names, each its kind's row pivoted (0 where the customer had
    -- no event of it): pipeline/landing/events.py, kind_columns
    {{kind_columns}},
    week AS snapshot_date
FROM kinds
GROUP BY customer_id, week
