//! `[aigw.shared]`: where budgets, limits and concurrency caps are counted when several
//! gatewayd replicas serve the AI gateway. Unset (the default), each process counts for
//! itself (embedded counters: one replica needs nothing else); with `redis`, every replica
//! reserves and settles on one Redis (or Valkey), so a team's budget holds across all of them.
//!
//! What this module must never do: accept a Redis address that is not one (checked at load,
//! never at the first call), a timeout that lets a call wait unboundedly on Redis, or leave
//! what happens when Redis is unreachable unsaid (`on_redis_down` always has a value).

use serde::Deserialize;

use crate::ConfigDuration;

/// What a budget or limit does while the shared Redis cannot be reached.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnRedisDown {
    /// Refuse the calls it applies to (503): nothing is spent that no one counted.
    #[default]
    Refuse,
    /// Admit calls within a local allowance (`local_allowance_percent` of the limit, per
    /// replica and window), counted in this process, and say so in the log and the metrics.
    Local,
}

impl OnRedisDown {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Refuse => "refuse",
            Self::Local => "local",
        }
    }
}

/// `[aigw.shared]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AigwShared {
    /// `redis://host:port[/db]` (or `rediss://` with TLS is refused: not built in); unset:
    /// embedded counters.
    pub redis: Option<String>,
    /// Longest wait for Redis on one operation (connect, or a script's answer): a call never
    /// waits longer than this on the shared counters before `on_redis_down` decides.
    pub timeout: ConfigDuration,
    /// Connections to Redis kept open at most (idle ones are reused; more calls at once
    /// wait for one, within `timeout`).
    pub pool: usize,
    /// The default of every budget and limit without its own `on_redis_down`.
    pub on_redis_down: OnRedisDown,
    /// With `on_redis_down = "local"`: the share of each limit (percent) one replica may
    /// admit on its own while Redis is down, per window.
    pub local_allowance_percent: u8,
    /// How long a reservation (a call in flight) holds on Redis without being settled: the
    /// slots and reservations of a replica that died come back after it.
    pub lease: ConfigDuration,
    /// The prefix of every key this gateway writes (several gateways may share one Redis).
    pub key_prefix: String,
}

impl Default for AigwShared {
    fn default() -> Self {
        Self {
            redis: None,
            timeout: ConfigDuration(std::time::Duration::from_millis(250)),
            pool: 32,
            on_redis_down: OnRedisDown::Refuse,
            local_allowance_percent: 10,
            lease: ConfigDuration::secs(3600),
            key_prefix: "warden".into(),
        }
    }
}

/// Checks `[aigw.shared]`: the error names the key.
pub(crate) fn validate_shared(s: &AigwShared) -> Result<(), (&'static str, String)> {
    if let Some(url) = &s.redis {
        let rest = url.strip_prefix("redis://").ok_or((
            "redis",
            format!(
                "aigw.shared.redis {url:?} must start with redis:// (rediss:// is not supported)"
            ),
        ))?;
        let host = rest.rsplit('@').next().unwrap_or(rest);
        let host = host.split('/').next().unwrap_or(host);
        if host.is_empty() || host.chars().any(char::is_whitespace) {
            return Err(("redis", format!("aigw.shared.redis {url:?} names no host")));
        }
    }
    let ms = s.timeout.0.as_millis();
    if !(1..=10_000).contains(&ms) {
        return Err((
            "timeout",
            "aigw.shared.timeout must be between 1ms and 10s".into(),
        ));
    }
    if !(1..=1024).contains(&s.pool) {
        return Err(("pool", "aigw.shared.pool must be between 1 and 1024".into()));
    }
    if s.local_allowance_percent > 100 {
        return Err((
            "local_allowance_percent",
            "aigw.shared.local_allowance_percent must be between 0 and 100".into(),
        ));
    }
    if s.lease.0.as_secs() < 60 || s.lease.0.as_secs() > 86_400 {
        return Err((
            "lease",
            "aigw.shared.lease must be between 1m and 1d".into(),
        ));
    }
    let prefix_ok = !s.key_prefix.is_empty()
        && s.key_prefix.len() <= 64
        && s.key_prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if !prefix_ok {
        return Err((
            "key_prefix",
            "aigw.shared.key_prefix must be 1 to 64 of a-z A-Z 0-9 - _ . :".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AigwShared, String> {
        let s: AigwShared = toml::from_str(text).map_err(|e| e.to_string())?;
        validate_shared(&s).map_err(|(_, m)| m)?;
        Ok(s)
    }

    #[test]
    fn embedded_is_the_default_and_redis_is_checked_at_load() {
        let s = parse("").unwrap();
        assert_eq!(s.redis, None);
        assert_eq!(s.on_redis_down, OnRedisDown::Refuse);
        let s = parse("redis = \"redis://127.0.0.1:6379\"\non_redis_down = \"local\"").unwrap();
        assert_eq!(s.on_redis_down, OnRedisDown::Local);
        assert!(parse("redis = \"http://x\"")
            .unwrap_err()
            .contains("redis://"));
        assert!(parse("redis = \"redis://\"")
            .unwrap_err()
            .contains("no host"));
        assert!(parse("timeout = \"0ms\"").is_err());
        assert!(parse("timeout = \"1m\"").is_err());
        assert!(parse("pool = 0").is_err());
        assert!(parse("local_allowance_percent = 101").is_err());
        assert!(parse("lease = \"5s\"").is_err());
        assert!(parse("key_prefix = \"a b\"").is_err());
        assert!(parse("on_redis_down = \"open\"").is_err());
        assert!(parse("colour = 1").is_err());
    }
}
