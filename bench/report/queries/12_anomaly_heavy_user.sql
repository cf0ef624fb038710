-- Anomaly: users whose requests on the last day with data are many times the median user's
-- (app_user_daily). Expected on the bench data: lisa.baker@acme.example, ~50x.
SELECT
    user,
    r                                                AS requests,
    (SELECT median(r2) FROM (SELECT user, sum(requests) AS r2 FROM app_user_daily
        WHERE day = (SELECT max(day) FROM app_user_daily) GROUP BY user)) AS median_user,
    round(r / median_user, 1)                        AS ratio
FROM
(
    SELECT user, sum(requests) AS r
    FROM app_user_daily
    WHERE day = (SELECT max(day) FROM app_user_daily)
    GROUP BY user
)
ORDER BY r DESC
LIMIT 10
