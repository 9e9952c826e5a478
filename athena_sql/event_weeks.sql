-- The weeks {{first_week}} to {{last_week}} (pipeline/landing/events.py chooses how many: at most 13) from
-- engagement.event_days (the events, each once, summed by customer, kind and local day as each upload landed), each
-- as of its cut-off: the days before the week's date, never that day or later. A row per customer and week, in the
-- contract's columns, for every customer with an event in the 90 days before the week's cut-off (the contract's
-- widest window), or in the mapping's presence_days when more (`silent`): each kind's counts in its windows (0
-- for none), the sessions' active days, minutes and hours, the purchases' revenue, and the lifetime totals over the
-- customer's whole history before the cut-off.
-- Only the columns the mapping fills are made, each kind's in its own aggregates (pipeline/landing/events.py,
-- WeekColumns): the windows per customer and week, the history per customer, the contract's columns from the two.
-- A row per customer throughout, never one per customer and kind (a week at 100M events, built and landed:
-- 63.6 s with that pivot, 55.3 s without).
-- Sums are rounded to 6 decimals: the engines add in parallel, in no set order, and a week built again from the
-- same events must come out the same. Counts are cast to bigint, as glue/contract columns are (DuckDB's sum of a
-- bigint is a HUGEINT).
-- One statement builds many weeks, reading the days twice: the history before {{first_week}} is summed once
-- (`history`), and each week adds the days since (`windows`, which also holds its 90-day windows). A day joins at
-- most 13 weeks, and within 13 weeks every customer with an event since {{first_week}} is present. A day two uploads
-- both have counts once as an active day (new_day).
-- {{customer_bucket}} keeps one share of the customers, by a hash of their id ("true" for all), when a week has more
-- customers than a statement holds: `history` reads only those of `windows`.
-- snapshot_date (last, as UNLOAD requires) partitions the output by week.
WITH weeks AS (
    SELECT CAST(w.week AS date) AS week
    FROM UNNEST(sequence(DATE '{{first_week}}', DATE '{{last_week}}', INTERVAL '7' DAY)) AS w(week)
),
recent AS (
    SELECT d.customer_id, d.kind, d.local_date, d.events, d.amount, d.minutes, d.late_night, d.new_day, k.week,
           date_diff('day', d.local_date, k.week) AS age
    FROM engagement.event_days d
    JOIN weeks k ON d.local_date < k.week
        AND (d.local_date >= date_add('day', -90, k.week) OR d.local_date >= DATE '{{first_week}}')
    WHERE d.local_date >= date_add('day', -90, DATE '{{first_week}}') AND d.local_date < DATE '{{last_week}}'
      AND {{customer_bucket}}
),
-- the customers silent in a week's 90 days whose latest event is within the mapping's presence_days before it
-- ({{presence_days}}; at 90 there are none, and the condition below is composed as false): all their days are
-- before {{first_week}} (a later one is in the week's 90 days), so `windows` gets a row of zero counts for them from
-- one without a day
silent AS (
    SELECT l.customer_id, k.week
    FROM (
        SELECT d.customer_id, max(d.local_date) AS last_day
        FROM engagement.event_days d
        WHERE {{keeps_silent}} AND d.local_date < DATE '{{first_week}}'
          AND d.local_date >= date_add('day', -{{presence_days}}, DATE '{{first_week}}') AND {{customer_bucket}}
        GROUP BY d.customer_id
    ) l
    JOIN weeks k ON l.last_day >= date_add('day', -{{presence_days}}, k.week)
        AND l.last_day < date_add('day', -90, k.week)
),
-- a row per customer present in a week: each kind's windows, and what its days since {{first_week}} add to the
-- history before the batch
windows AS (
    SELECT
        customer_id,
        week,
        {{window_columns}}
    FROM (
        SELECT * FROM recent
        UNION ALL
        SELECT customer_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, week, NULL FROM silent
    ) r
    GROUP BY customer_id, week
),
-- the whole history of the present customers only (a log's silent customers are most of its customers): each kind's
-- first day, and its totals and latest day before {{first_week}}
history AS (
    SELECT
        customer_id,
        min(local_date) AS first_day,
        {{history_columns}}
    FROM engagement.event_days
    WHERE local_date < DATE '{{last_week}}' AND customer_id IN (SELECT customer_id FROM windows)
    GROUP BY customer_id
)
SELECT
    w.customer_id,
    -- a customer's first event, of any kind (before the week: the customer has one in its 90 days)
    h.first_day AS signup_date,
    -- the contract's columns of the kinds the mapping names: pipeline/landing/events.py, WeekColumns
    {{contract_columns}},
    w.week AS snapshot_date
FROM windows w
JOIN history h ON h.customer_id = w.customer_id
