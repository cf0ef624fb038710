-- Apps: top 20 by bytes over 30 days (app_usage_hourly).
SELECT
    app_id,
    countMerge(requests)                     AS requests,
    uniqMerge(users)                         AS users,
    uniqIfMerge(devices)                     AS devices,
    sumMerge(bytes_up) + sumMerge(bytes_down) AS bytes,
    countIfMerge(blocked_requests)           AS blocked,
    countIfMerge(upload_requests)            AS uploads,
    sumMerge(dlp_findings)                   AS dlp_findings
FROM app_usage_hourly
WHERE hour >= toStartOfHour(now() - INTERVAL 30 DAY)
GROUP BY app_id
ORDER BY bytes DESC
LIMIT 20
