-- One app (chatgpt): top 50 enrolled devices over 30 days (app_device_daily, migration 0010).
SELECT
    device_id,
    countMerge(requests)        AS requests,
    sumMerge(bytes_up)          AS bytes_up,
    anyLastMerge(user)          AS user,
    anyLastMerge(device_posture) AS posture,
    maxMerge(last_seen)         AS last_seen
FROM app_device_daily
WHERE app_id = 'chatgpt' AND day >= toDate(now() - INTERVAL 30 DAY)
GROUP BY device_id
ORDER BY requests DESC
LIMIT 50
