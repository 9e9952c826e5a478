-- Which segments are slipping: customers, mean risk and the share at high risk, by plan and country, for one
-- week's scores (the attributes are the ones the scored snapshot held).
-- Parameters: run_date (YYYY-MM-DD, the week scored).
SELECT
    s.plan,
    s.country,
    count(*) AS customers,
    avg(p.churn_probability) AS mean_risk,
    avg(CASE WHEN p.risk_band = 'high' THEN 1.0 ELSE 0.0 END) AS share_high_risk
FROM engagement.predictions p
JOIN engagement.snapshots s
    ON s.customer_id = p.customer_id AND s.snapshot_date = p.snapshot_date
WHERE p.run_date = CAST(:run_date AS DATE)
GROUP BY s.plan, s.country
ORDER BY mean_risk DESC, s.plan, s.country
