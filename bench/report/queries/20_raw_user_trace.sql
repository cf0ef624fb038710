-- Raw table: one user's trace for the last 24 h (http_events, ORDER BY (app_id, ts)). The user
-- column is not in the key: this reads every row of the last day (partition pruning and the ts
-- part of the key bound it to ~1 day). "Now" is the end of the data, as in 10_.
SELECT ts, app_id, host, method, path, status, action, rule_id, bytes_up, bytes_down, dlp_detectors, file_names
FROM http_events
WHERE user = 'james.smith@acme.example'
  AND ts >= (SELECT max(hour) FROM app_usage_hourly) + 3600 - 86400
ORDER BY ts
