//! Table names and retention classes. Code elsewhere names tables only through these
//! constants, so a rename is one migration plus one edit here.

/// Raw: one row per HTTP transaction ([`crate::HttpEvent`]).
pub const HTTP_EVENTS: &str = "http_events";
/// Raw: one row per detector that matched in a request ([`crate::DlpFinding`]).
pub const DLP_FINDINGS: &str = "dlp_findings";
/// Raw: one row per call to the AI gateway ([`crate::AiRequest`]).
pub const AI_REQUESTS: &str = "ai_requests";
/// Audit: approval status changes ([`crate::AppStatusChange`]).
pub const APP_STATUS_CHANGES: &str = "app_status_changes";
/// Rollup (AggregatingMergeTree) of `http_events` per hour and app.
pub const APP_USAGE_HOURLY: &str = "app_usage_hourly";
/// Rollup (SummingMergeTree) of `http_events` per day, app and user.
pub const APP_USER_DAILY: &str = "app_user_daily";
/// Rollup (AggregatingMergeTree) of `dlp_findings` per hour, app and detector.
pub const DLP_FINDINGS_HOURLY: &str = "dlp_findings_hourly";
/// Rollup (AggregatingMergeTree) of `http_events` per day, app and country.
pub const APP_COUNTRY_DAILY: &str = "app_country_daily";
/// Rollup (AggregatingMergeTree) of AI traffic in `http_events` per day and user.
pub const USER_DAILY: &str = "user_daily";
/// Rollup (AggregatingMergeTree) of `http_events` per day, app and user group.
pub const APP_GROUP_DAILY: &str = "app_group_daily";
/// Rollup (AggregatingMergeTree) of `http_events` per day, app and device.
pub const APP_DEVICE_DAILY: &str = "app_device_daily";
/// Rollup (AggregatingMergeTree) of `http_events` per day and app, with sketches of uniques.
pub const APP_DAILY: &str = "app_daily";
/// Rollup (AggregatingMergeTree) of failed transactions (`action = 'error'`) per hour, app,
/// user, country and groups.
pub const APP_ERRORS_HOURLY: &str = "app_errors_hourly";
/// Rollup (AggregatingMergeTree) of `ai_requests` per hour, team, user, virtual key, provider
/// and model.
pub const AI_REQUESTS_HOURLY: &str = "ai_requests_hourly";
/// Rollup (AggregatingMergeTree) of `ai_requests` per day and the same who-dimensions.
pub const AI_REQUESTS_DAILY: &str = "ai_requests_daily";
/// Rollup (AggregatingMergeTree) of the AI API keys seen in `http_events`, per day and key
/// fingerprint: the AI key inventory.
pub const AI_KEYS_SEEN: &str = "ai_keys_seen";
/// The runner's record of applied migrations.
pub const SCHEMA_MIGRATIONS: &str = "schema_migrations";

/// Tables whose partitions are dropped after `retention.raw_days`.
pub const RAW: [&str; 3] = [HTTP_EVENTS, DLP_FINDINGS, AI_REQUESTS];

/// Tables whose partitions are dropped after `retention.rollup_days`. The status audit trail
/// lives as long as the reports that it explains.
pub const ROLLUPS: [&str; 13] = [
    APP_DAILY,
    APP_USAGE_HOURLY,
    APP_USER_DAILY,
    DLP_FINDINGS_HOURLY,
    APP_COUNTRY_DAILY,
    USER_DAILY,
    APP_GROUP_DAILY,
    APP_DEVICE_DAILY,
    APP_ERRORS_HOURLY,
    AI_REQUESTS_HOURLY,
    AI_REQUESTS_DAILY,
    APP_STATUS_CHANGES,
    AI_KEYS_SEEN,
];

/// Materialized views, each writing into the rollup of the same name without `_mv`.
pub const MATERIALIZED_VIEWS: [&str; 12] = [
    "app_daily_mv",
    "app_usage_hourly_mv",
    "app_user_daily_mv",
    "dlp_findings_hourly_mv",
    "app_country_daily_mv",
    "user_daily_mv",
    "app_group_daily_mv",
    "app_device_daily_mv",
    "app_errors_hourly_mv",
    "ai_requests_hourly_mv",
    "ai_requests_daily_mv",
    "ai_keys_seen_mv",
];
