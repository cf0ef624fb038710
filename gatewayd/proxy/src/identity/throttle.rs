//! Failure throttling for proxy passwords: per source address and per user name.
//!
//! A few failures are free (typos); after that each further failure doubles how long the
//! source (or the name) must wait before the next attempt is even verified, up to a cap.
//! Failures are forgotten after a quiet spell. A source that recently logged in as a user is
//! not held back by that user's throttle, so a password-guessing campaign against a name does
//! not lock its owner out of the machines they use (the per-source throttle still applies).
//!
//! Both tables are bounded: an attacker sending ever-new addresses or names evicts idle and
//! then the oldest entries; it can never grow the gateway's memory. Names are kept by their
//! SHA-256 so a 60 KiB "user name" costs 32 bytes. Never stores a password.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Failures from one source before it has to wait.
pub const SOURCE_FREE_FAILURES: u32 = 5;
/// Failures for one name (from any source) before it has to wait.
pub const USER_FREE_FAILURES: u32 = 10;
/// The longest wait.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Failures older than this are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// How long a source that logged in as a user stays exempt from that user's throttle.
const TRUSTED_FOR: Duration = Duration::from_secs(24 * 3600);
/// Sources remembered per user as recently trusted.
const TRUSTED_PER_USER: usize = 8;
/// Entries per table.
const TABLE_LIMIT: usize = 65_536;

#[derive(Default)]
struct Entry {
    failures: u32,
    last: Option<Instant>,
    until: Option<Instant>,
    /// Sources that logged in as this user (user table only).
    trusted: Vec<(IpAddr, Instant)>,
}

impl Entry {
    fn wait(&self, now: Instant) -> Option<Duration> {
        self.until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    fn fail(&mut self, now: Instant, free: u32) {
        if self.last.is_some_and(|last| now - last > FORGET_AFTER) {
            self.failures = 0;
            self.until = None;
        }
        self.failures = self.failures.saturating_add(1);
        self.last = Some(now);
        if self.failures > free {
            let doublings = (self.failures - free - 1).min(16);
            let backoff = Duration::from_secs(1u64 << doublings).min(MAX_BACKOFF);
            self.until = Some(now + backoff);
        }
    }

    fn idle(&self, now: Instant) -> bool {
        self.wait(now).is_none()
            && self.last.is_none_or(|last| now - last > FORGET_AFTER)
            && self.trusted.iter().all(|(_, at)| now - *at > TRUSTED_FOR)
    }
}

struct Table<K> {
    entries: HashMap<K, Entry>,
}

impl<K: Hash + Eq + Clone> Table<K> {
    fn entry(&mut self, key: &K, now: Instant) -> &mut Entry {
        if !self.entries.contains_key(key) && self.entries.len() >= TABLE_LIMIT {
            self.entries.retain(|_, e| !e.idle(now));
            if self.entries.len() >= TABLE_LIMIT {
                let oldest = self
                    .entries
                    .iter()
                    .min_by_key(|(_, e)| e.last)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    self.entries.remove(&oldest);
                }
            }
        }
        self.entries.entry(key.clone()).or_default()
    }
}

impl<K> Default for Table<K> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
        }
    }
}

/// The failure tables.
#[derive(Default)]
pub struct Throttle {
    sources: Mutex<Table<IpAddr>>,
    users: Mutex<Table<[u8; 32]>>,
}

fn name_key(name: &str) -> [u8; 32] {
    Sha256::digest(name.as_bytes()).into()
}

impl Throttle {
    /// How long `source` must wait before an attempt as `name` is verified, if at all.
    pub fn wait(&self, source: IpAddr, name: &str) -> Option<Duration> {
        let now = Instant::now();
        let by_source = lock(&self.sources)
            .entries
            .get(&source)
            .and_then(|e| e.wait(now));
        let by_user = lock(&self.users)
            .entries
            .get(&name_key(name))
            .filter(|e| {
                !e.trusted
                    .iter()
                    .any(|(ip, at)| *ip == source && now - *at < TRUSTED_FOR)
            })
            .and_then(|e| e.wait(now));
        by_source.max(by_user)
    }

    /// Records a failed attempt from `source` as `name`.
    pub fn failed(&self, source: IpAddr, name: &str) {
        let now = Instant::now();
        lock(&self.sources)
            .entry(&source, now)
            .fail(now, SOURCE_FREE_FAILURES);
        lock(&self.users)
            .entry(&name_key(name), now)
            .fail(now, USER_FREE_FAILURES);
    }

    /// Records a successful login: the source's failures are forgotten and it becomes trusted
    /// for this user.
    pub fn succeeded(&self, source: IpAddr, name: &str) {
        let now = Instant::now();
        lock(&self.sources).entries.remove(&source);
        let mut users = lock(&self.users);
        let entry = users.entry(&name_key(name), now);
        entry
            .trusted
            .retain(|(ip, at)| *ip != source && now - *at < TRUSTED_FOR);
        if entry.trusted.len() >= TRUSTED_PER_USER {
            entry.trusted.remove(0);
        }
        entry.trusted.push((source, now));
    }

    /// Entries held (sources, users), for metrics and tests.
    pub fn sizes(&self) -> (usize, usize) {
        (
            lock(&self.sources).entries.len(),
            lock(&self.users).entries.len(),
        )
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn a_source_waits_after_its_free_failures_and_longer_each_time() {
        let t = Throttle::default();
        for _ in 0..SOURCE_FREE_FAILURES {
            assert_eq!(t.wait(ip(1), "alice"), None);
            t.failed(ip(1), "alice");
        }
        assert_eq!(t.wait(ip(1), "alice"), None, "five typos are free");
        t.failed(ip(1), "alice");
        let first = t
            .wait(ip(1), "bob")
            .expect("the source waits, whatever the name");
        assert!(first <= Duration::from_secs(1));
        t.failed(ip(1), "alice");
        assert!(t.wait(ip(1), "alice").unwrap() > first);
        assert_eq!(
            t.wait(ip(2), "carol"),
            None,
            "other sources are not held back"
        );
    }

    #[test]
    fn a_name_under_attack_waits_except_from_where_its_owner_logged_in() {
        let t = Throttle::default();
        t.succeeded(ip(200), "alice");
        for n in 0..=USER_FREE_FAILURES {
            t.failed(ip(n as u8), "alice");
        }
        assert!(t.wait(ip(100), "alice").is_some(), "a new source waits");
        assert_eq!(
            t.wait(ip(200), "alice"),
            None,
            "the owner's machine does not"
        );
        assert_eq!(t.wait(ip(100), "bob"), None);
    }

    #[test]
    fn tables_stay_bounded() {
        let t = Throttle::default();
        for n in 0..(TABLE_LIMIT as u32 + 10) {
            let source = IpAddr::from(n.to_be_bytes());
            t.failed(source, &format!("user{n}"));
        }
        let (sources, users) = t.sizes();
        assert!(sources <= TABLE_LIMIT && users <= TABLE_LIMIT);
    }
}
