-- One app (the biggest, chatgpt): its users over 30 days, top 50 by requests (app_user_daily,
-- SummingMergeTree: sum() + GROUP BY), with the app's user count beside each row.
SELECT
    user,
    sum(requests)         AS requests,
    sum(blocked_requests) AS blocked,
    sum(upload_requests)  AS uploads,
    sum(bytes_up)         AS bytes_up,
    sum(bytes_down)       AS bytes_down,
    sum(dlp_findings)     AS dlp_findings,
    min(day)              AS first_day,
    max(day)              AS last_day
FROM app_user_daily
WHERE app_id = 'chatgpt' AND day >= toDate(now() - INTERVAL 30 DAY)
GROUP BY user
ORDER BY requests DESC
LIMIT 50
