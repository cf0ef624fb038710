-- Overview: daily trend over 30 days (app_usage_hourly).
SELECT
    toDate(hour)                   AS day,
    countMerge(requests)           AS requests,
    countIfMerge(blocked_requests) AS blocked,
    countIfMerge(upload_requests)  AS uploads,
    sumMerge(dlp_findings)         AS dlp_findings,
    uniqMerge(users)               AS users,
    uniqExact(app_id)              AS apps
FROM app_usage_hourly
WHERE hour >= toStartOfHour(now() - INTERVAL 30 DAY)
GROUP BY day
ORDER BY day
