//! `app_status_changes`: the audit trail of approval decisions about AI apps.

use clickhouse::Row;
use serde::{Deserialize, Serialize};

use crate::tables;

/// One change of an app's approval status.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, Row)]
pub struct AppStatusChange {
    /// Seconds since the Unix epoch (UTC).
    pub ts: u32,
    pub app_id: String,
    /// `approved`, `unapproved`, `in_review` or `unreviewed`.
    pub old_status: String,
    pub new_status: String,
    /// Who made the change: an admin token's name, or `cli`.
    pub actor: String,
    pub reason: String,
}

impl AppStatusChange {
    pub const TABLE: &'static str = tables::APP_STATUS_CHANGES;
}
