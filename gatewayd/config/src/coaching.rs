//! The `[coaching]` section: how long a pass lasts after a user continues past a `warn`
//! page, and the bounds on passes, page tickets and access requests that keep a user (or a
//! script in their browser) from growing the gateway's memory or the security team's queue.
//!
//! What this module must never do: allow an unbounded table, or a pass that never expires.

use serde::Deserialize;

use crate::ConfigDuration;

/// Coaching pages (`warn` rules) and access requests from block pages.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct CoachingConfig {
    /// How long a user may use an app after continuing past its warning.
    pub pass_duration: ConfigDuration,
    /// Passes held at once, all users together; the oldest goes first when full.
    pub max_passes: usize,
    /// How long the Continue / Request access form on a page stays usable.
    pub ticket_ttl: ConfigDuration,
    /// Open (unused) page tickets, all users together; the oldest goes first when full.
    pub max_tickets: usize,
    /// Access requests one user may file in an hour; more are refused (429).
    pub requests_per_user_per_hour: u32,
    /// Open access requests kept at once; when full, new ones are refused (503) until the
    /// security team decides some.
    pub max_open_requests: usize,
}

impl Default for CoachingConfig {
    fn default() -> Self {
        Self {
            pass_duration: ConfigDuration::secs(3600),
            max_passes: 10_000,
            ticket_ttl: ConfigDuration::secs(600),
            max_tickets: 10_000,
            requests_per_user_per_hour: 5,
            max_open_requests: 1_000,
        }
    }
}

/// The rules types cannot say, as (key, message).
pub(crate) fn validate(c: &CoachingConfig) -> Result<(), (&'static str, String)> {
    let day = std::time::Duration::from_secs(86_400);
    if c.pass_duration.0.is_zero() || c.pass_duration.0 > 30 * day {
        return Err((
            "pass_duration",
            "coaching.pass_duration must be between 1s and 30d".into(),
        ));
    }
    if c.ticket_ttl.0.is_zero() || c.ticket_ttl.0 > day {
        return Err((
            "ticket_ttl",
            "coaching.ticket_ttl must be between 1s and 1d".into(),
        ));
    }
    for (key, value, max) in [
        ("max_passes", c.max_passes, 1_000_000),
        ("max_tickets", c.max_tickets, 1_000_000),
        ("max_open_requests", c.max_open_requests, 100_000),
    ] {
        if value == 0 || value > max {
            return Err((key, format!("coaching.{key} must be 1..={max}")));
        }
    }
    if c.requests_per_user_per_hour == 0 || c.requests_per_user_per_hour > 1000 {
        return Err((
            "requests_per_user_per_hour",
            "coaching.requests_per_user_per_hour must be 1..=1000".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bounds_are_checked() {
        assert!(validate(&CoachingConfig::default()).is_ok());
        let zero = CoachingConfig {
            max_passes: 0,
            ..CoachingConfig::default()
        };
        assert_eq!(validate(&zero).unwrap_err().0, "max_passes");
        let forever = CoachingConfig {
            pass_duration: ConfigDuration::secs(365 * 86_400),
            ..CoachingConfig::default()
        };
        assert_eq!(validate(&forever).unwrap_err().0, "pass_duration");
    }
}
