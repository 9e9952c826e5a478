-- Who is most at risk this week: the customers with the highest churn probability of one week's scores.
-- Parameters: run_date (YYYY-MM-DD, the week scored), top_n (how many customers).
-- Ties are broken by customer_id, so the list is the same every time it is run.
SELECT
    customer_id,
    churn_probability,
    risk_band,
    model_version
FROM engagement.predictions
WHERE run_date = CAST(:run_date AS DATE)
ORDER BY churn_probability DESC, customer_id
LIMIT :top_n
