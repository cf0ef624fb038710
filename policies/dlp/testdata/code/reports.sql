-- Monthly revenue per region, with the share of the total.
WITH monthly AS (
    SELECT
        r.name AS region,
        date_trunc('month', o.created_at) AS month,
        SUM(o.total_cents) / 100.0 AS revenue
    FROM orders o
    JOIN customers c ON c.id = o.customer_id
    JOIN regions r ON r.id = c.region_id
    WHERE o.status = 'paid'
      AND o.created_at >= now() - INTERVAL '12 months'
    GROUP BY r.name, date_trunc('month', o.created_at)
)
SELECT
    region,
    month,
    revenue,
    ROUND(100.0 * revenue / SUM(revenue) OVER (PARTITION BY month), 1) AS share_pct
FROM monthly
ORDER BY month DESC, revenue DESC;

CREATE TABLE IF NOT EXISTS audit_log (
    id BIGSERIAL PRIMARY KEY,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

INSERT INTO audit_log (actor, action) VALUES ('report-job', 'monthly revenue computed');
UPDATE customers SET last_report_at = now() WHERE region_id IN (SELECT id FROM regions);
