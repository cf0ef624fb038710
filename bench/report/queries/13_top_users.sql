-- Overview: top 20 users by requests over 30 days (user_daily, migration 0008).
SELECT
    user,
    countMerge(requests)           AS requests,
    countIfMerge(blocked_requests) AS blocked,
    countIfMerge(upload_requests)  AS uploads,
    sumMerge(dlp_findings)         AS dlp_findings,
    uniqMerge(apps)                AS apps,
    uniqIfMerge(devices)           AS devices,
    anyLastMerge(groups)           AS groups,
    maxMerge(last_seen)            AS last_seen
FROM user_daily
WHERE day >= toDate(now() - INTERVAL 30 DAY)
GROUP BY user
ORDER BY requests DESC
LIMIT 20
