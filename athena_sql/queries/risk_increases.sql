-- Who got riskier: the biggest rises in churn probability from the week before run_date to run_date, among
-- customers scored both weeks.
-- Parameters: run_date (YYYY-MM-DD, the later week), top_n (how many customers).
WITH this_week AS (
    SELECT customer_id, churn_probability
    FROM engagement.predictions
    WHERE run_date = CAST(:run_date AS DATE)
), week_before AS (
    SELECT customer_id, churn_probability
    FROM engagement.predictions
    WHERE run_date = date_add('day', -7, CAST(:run_date AS DATE))
)
SELECT
    t.customer_id,
    b.churn_probability AS previous_probability,
    t.churn_probability,
    t.churn_probability - b.churn_probability AS increase
FROM this_week t
JOIN week_before b ON b.customer_id = t.customer_id
ORDER BY increase DESC, t.customer_id
LIMIT :top_n
