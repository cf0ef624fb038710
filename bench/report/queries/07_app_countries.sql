-- One app (chatgpt): countries over 30 days (app_country_daily).
SELECT
    country,
    countMerge(requests)           AS requests,
    countIfMerge(blocked_requests) AS blocked,
    sumMerge(bytes_up)             AS bytes_up,
    uniqMerge(users)               AS users,
    min(day)                       AS first_day
FROM app_country_daily
WHERE app_id = 'chatgpt' AND day >= toDate(now() - INTERVAL 30 DAY)
GROUP BY country
ORDER BY requests DESC
