-- One app (chatgpt): hourly series over 30 days (app_usage_hourly), ~720 rows.
SELECT
    hour,
    countMerge(requests)           AS requests,
    countIfMerge(blocked_requests) AS blocked,
    uniqMerge(users)               AS users,
    sumMerge(bytes_up)             AS bytes_up
FROM app_usage_hourly
WHERE app_id = 'chatgpt' AND hour >= toStartOfHour(now() - INTERVAL 30 DAY)
GROUP BY hour
ORDER BY hour
