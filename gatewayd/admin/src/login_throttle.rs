//! Failure throttling for dashboard logins and API bearer tokens (`api_auth`), per client
//! address and per token prefix.
//!
//! A few failures are free (typos, a pasted token cut short); after that each further failure
//! doubles how long the address (or anyone presenting a token that starts the same way) must
//! wait before the next attempt is even checked, up to five minutes. Attempts made while
//! waiting are answered 429 with `Retry-After` and only counted, never verified and never
//! written to the audit trail one by one: the trail gets the free failures and then one
//! `login_throttled` line per wait, carrying the counts, so an unauthenticated client cannot
//! grow the audit file without bound. Failures are forgotten after a quiet spell and an
//! address's failures when it logs in.
//!
//! Both tables are bounded (idle, then the oldest entries are evicted). It never keeps a
//! token: prefixes are kept by their SHA-256.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The client address of an admin request, put in its extensions by the listener.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub IpAddr);

/// Failures from one address before it has to wait.
pub const SOURCE_FREE_FAILURES: u32 = 5;
/// Failures with one token prefix (from anywhere) before it has to wait.
pub const PREFIX_FREE_FAILURES: u32 = 10;
/// How much of a presented token is its prefix (`wdn_` and eight characters).
const PREFIX_CHARS: usize = 12;
/// The longest wait.
const MAX_WAIT: Duration = Duration::from_secs(300);
/// Failures older than this are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// Entries per table.
const TABLE_LIMIT: usize = 16_384;

#[derive(Default)]
struct Entry {
    failures: u32,
    /// Attempts refused while waiting since the last `login_throttled` audit line.
    refused: u32,
    last: Option<Instant>,
    until: Option<Instant>,
}

impl Entry {
    fn wait(&self, now: Instant) -> Option<Duration> {
        self.until.filter(|u| *u > now).map(|u| u - now)
    }

    /// Counts a failure; the new wait when this failure starts one.
    fn fail(&mut self, now: Instant, free: u32) -> Option<Duration> {
        if self.last.is_some_and(|last| now - last > FORGET_AFTER) {
            *self = Entry::default();
        }
        self.failures = self.failures.saturating_add(1);
        self.last = Some(now);
        if self.failures <= free {
            return None;
        }
        let doublings = (self.failures - free - 1).min(16);
        let wait = Duration::from_secs(1u64 << doublings).min(MAX_WAIT);
        self.until = Some(now + wait);
        Some(wait)
    }

    fn idle(&self, now: Instant) -> bool {
        self.wait(now).is_none() && self.last.is_none_or(|last| now - last > FORGET_AFTER)
    }
}

struct Table<K>(HashMap<K, Entry>);

impl<K: Hash + Eq + Clone> Table<K> {
    fn entry(&mut self, key: &K, now: Instant) -> &mut Entry {
        if !self.0.contains_key(key) && self.0.len() >= TABLE_LIMIT {
            self.0.retain(|_, e| !e.idle(now));
            if self.0.len() >= TABLE_LIMIT {
                let oldest = self
                    .0
                    .iter()
                    .min_by_key(|(_, e)| e.last)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    self.0.remove(&oldest);
                }
            }
        }
        self.0.entry(key.clone()).or_default()
    }
}

impl<K> Default for Table<K> {
    fn default() -> Self {
        Self(HashMap::new())
    }
}

/// What a failed login leads to, for the audit trail.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// Still within the free failures: audit it as one refused login.
    Free,
    /// This failure started a wait: audit one `login_throttled` line with these counts.
    Throttled {
        failures: u32,
        refused_while_waiting: u32,
        wait: Duration,
    },
}

/// The dashboard's login failure tables.
#[derive(Default)]
pub struct LoginThrottle {
    sources: Mutex<Table<IpAddr>>,
    prefixes: Mutex<Table<String>>,
}

fn prefix_key(token: &str) -> String {
    let prefix: String = token.chars().take(PREFIX_CHARS).collect();
    state_files::sha256_hex(&prefix)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain counters: a panic elsewhere cannot leave them torn.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl LoginThrottle {
    /// How long `source` must wait before a login with `token` is checked, if at all; a
    /// refusal is counted for the next audit line.
    pub fn wait(&self, source: IpAddr, token: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut sources = lock(&self.sources);
        let mut prefixes = lock(&self.prefixes);
        let key = prefix_key(token);
        let by_source = sources.0.get(&source).and_then(|e| e.wait(now));
        let by_prefix = prefixes.0.get(&key).and_then(|e| e.wait(now));
        let wait = by_source.max(by_prefix)?;
        if let Some(entry) = sources.0.get_mut(&source) {
            entry.refused = entry.refused.saturating_add(1);
        }
        if by_prefix.is_some() {
            if let Some(entry) = prefixes.0.get_mut(&key) {
                entry.refused = entry.refused.saturating_add(1);
            }
        }
        Some(wait)
    }

    /// Records a failed login from `source` with `token`.
    pub fn failed(&self, source: IpAddr, token: &str) -> Failure {
        let now = Instant::now();
        let mut sources = lock(&self.sources);
        let by_source = sources.entry(&source, now);
        let source_wait = by_source.fail(now, SOURCE_FREE_FAILURES);
        let (failures, mut refused) = (by_source.failures, by_source.refused);
        by_source.refused = 0;
        drop(sources);
        let mut prefixes = lock(&self.prefixes);
        let by_prefix = prefixes.entry(&prefix_key(token), now);
        let prefix_wait = by_prefix.fail(now, PREFIX_FREE_FAILURES);
        if prefix_wait.is_some() {
            refused = refused.max(by_prefix.refused);
            by_prefix.refused = 0;
        }
        match source_wait.max(prefix_wait) {
            None => Failure::Free,
            Some(wait) => Failure::Throttled {
                failures,
                refused_while_waiting: refused,
                wait,
            },
        }
    }

    /// A login from `source` succeeded: its failures are forgotten.
    pub fn succeeded(&self, source: IpAddr) {
        lock(&self.sources).0.remove(&source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn an_address_waits_after_its_free_failures_and_others_do_not() {
        let t = LoginThrottle::default();
        for n in 0..SOURCE_FREE_FAILURES {
            assert_eq!(t.wait(ip(1), &format!("wdn_guess{n}")), None);
            assert_eq!(t.failed(ip(1), &format!("wdn_guess{n}")), Failure::Free);
        }
        let Failure::Throttled { failures, wait, .. } = t.failed(ip(1), "wdn_guess9") else {
            panic!("the sixth failure starts a wait");
        };
        assert_eq!((failures, wait), (6, Duration::from_secs(1)));
        assert!(t.wait(ip(1), "wdn_right-token").is_some());
        assert!(t.wait(ip(1), "wdn_right-token").is_some());
        assert_eq!(
            t.wait(ip(2), "wdn_other"),
            None,
            "another address is not held back"
        );
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(t.wait(ip(1), "wdn_right-token"), None, "the wait ends");
        let Failure::Throttled {
            refused_while_waiting,
            wait,
            ..
        } = t.failed(ip(1), "wdn_guess10")
        else {
            panic!("a failure after the wait waits longer");
        };
        assert_eq!((refused_while_waiting, wait), (2, Duration::from_secs(2)));
        t.succeeded(ip(1));
        assert_eq!(t.wait(ip(1), "wdn_x"), None);
    }

    #[test]
    fn one_token_prefix_tried_from_many_addresses_waits() {
        let t = LoginThrottle::default();
        for n in 0..=PREFIX_FREE_FAILURES {
            t.failed(ip(n as u8), &format!("wdn_abcdefgh{n}"));
        }
        assert!(t.wait(ip(100), "wdn_abcdefghZZ").is_some());
        assert_eq!(t.wait(ip(100), "wdn_zzzzzzzz"), None);
    }

    #[test]
    fn tables_stay_bounded() {
        let t = LoginThrottle::default();
        for n in 0..(TABLE_LIMIT as u32 + 10) {
            t.failed(IpAddr::from(n.to_be_bytes()), &format!("wdn_{n:08}"));
        }
        assert!(lock(&t.sources).0.len() <= TABLE_LIMIT);
        assert!(lock(&t.prefixes).0.len() <= TABLE_LIMIT);
    }
}
