-- Anomaly: (app, country) pairs seen in the last two days with data and never in the 30 days
-- before (app_country_daily). Anchored to the last day with data, like 10_. Expected on the bench
-- data: claude from RU, alone.
SELECT
    app_id,
    country,
    countMerge(requests) AS requests,
    uniqMerge(users)     AS users
FROM app_country_daily
WHERE day >= (SELECT max(day) FROM app_country_daily) - 1
GROUP BY app_id, country
HAVING (app_id, country) NOT IN
(
    SELECT app_id, country
    FROM app_country_daily
    WHERE day >= (SELECT max(day) FROM app_country_daily) - 31 AND day < (SELECT max(day) FROM app_country_daily) - 1
    GROUP BY app_id, country
)
ORDER BY requests DESC
LIMIT 10
