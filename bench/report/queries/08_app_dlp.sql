-- One app (chatgpt): DLP findings by detector over 30 days (dlp_findings_hourly).
SELECT
    detector,
    countMerge(requests)           AS requests,
    sumMerge(findings)             AS findings,
    countIfMerge(blocked_requests) AS blocked,
    uniqMerge(users)               AS users
FROM dlp_findings_hourly
WHERE app_id = 'chatgpt' AND hour >= toStartOfHour(now() - INTERVAL 30 DAY)
GROUP BY detector
ORDER BY findings DESC
