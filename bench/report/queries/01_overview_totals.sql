-- Overview: 30-day totals (app_usage_hourly). users/devices: uniq states merged over all hours.
SELECT
    countMerge(requests)          AS requests,
    countIfMerge(blocked_requests) AS blocked,
    countIfMerge(upload_requests) AS uploads,
    sumMerge(bytes_up)            AS bytes_up,
    sumMerge(bytes_down)          AS bytes_down,
    sumMerge(dlp_findings)        AS dlp_findings,
    uniqMerge(users)              AS users,
    uniqIfMerge(devices)          AS devices,
    uniqExact(app_id)             AS apps
FROM app_usage_hourly
WHERE hour >= toStartOfHour(now() - INTERVAL 30 DAY)
