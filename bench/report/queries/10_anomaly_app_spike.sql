-- Anomaly: apps whose requests in the last 24 h are far above their trailing 7-day daily mean
-- (app_usage_hourly). "Now" is the last hour with data, so the bench data keeps finding it as it
-- ages (a live report would use now()). Expected on the bench data: gamma, ~10x.
SELECT
    app_id,
    sumIf(r, hour > t_end - 86400)                 AS last_day,
    sumIf(r, hour <= t_end - 86400) / 7            AS trailing_7d_mean,
    round(last_day / trailing_7d_mean, 2)          AS ratio
FROM
(
    SELECT app_id, hour, countMerge(requests) AS r, (SELECT max(hour) FROM app_usage_hourly) AS t_end
    FROM app_usage_hourly
    WHERE hour > (SELECT max(hour) FROM app_usage_hourly) - 8 * 86400
    GROUP BY app_id, hour
)
GROUP BY app_id
HAVING trailing_7d_mean >= 10
ORDER BY ratio DESC
LIMIT 10
