-- The audit trail of approval decisions: who moved which app from what to what, and why.
-- Few rows, kept as long as the rollups, so partitioned by month.
CREATE TABLE IF NOT EXISTS app_status_changes
(
    ts         DateTime('UTC'),
    app_id     String,
    old_status String,
    new_status String,
    actor      String,
    reason     String
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(ts)
ORDER BY (app_id, ts);
