-- One app (chatgpt): usage by user group over 30 days (app_group_daily, migration 0009).
SELECT
    group_name,
    countMerge(requests)           AS requests,
    countIfMerge(blocked_requests) AS blocked,
    sumMerge(bytes_up)             AS bytes_up,
    uniqMerge(users)               AS users
FROM app_group_daily
WHERE app_id = 'chatgpt' AND day >= toDate(now() - INTERVAL 30 DAY)
GROUP BY group_name
ORDER BY requests DESC
