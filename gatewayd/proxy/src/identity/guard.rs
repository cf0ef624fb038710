//! The gate in front of password verification, so proxy authentication cannot be used to take
//! the gateway down.
//!
//! Argon2 costs tens of milliseconds of CPU and ~19 MiB of memory per try. Without a bound, a
//! hundred parallel wrong passwords meant two gigabytes and a queue that made everyone wait.
//! Here: at most a few verifications run at once (on the blocking pool, the permit travelling
//! with the work so a client that hangs up does not free a slot early), each in a reused
//! working buffer, so argon2's memory is at most slots × m_cost however long a flood lasts; a request waits a
//! short while for a slot and is otherwise answered "busy"; sources and names that keep
//! failing are told to wait (see `throttle`) before any hashing. A credential verified in the
//! last minute skips the hashing (see `verified`), never the throttle.
//!
//! It must never let a throttled or busy request through: every path that is not a verified
//! credential ends in a refusal. It lives as long as the gateway (across reloads), while the
//! users it checks against come from the current snapshot.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::Block;
use tokio::sync::Semaphore;

use super::throttle::Throttle;
use super::users::{Credentials, UserDirectory};
use super::Identity;
use crate::telemetry::{Exposition, Kind};

/// How long a request waits for a verification slot before it is told the gateway is busy.
const QUEUE_WAIT: Duration = Duration::from_secs(3);
/// The most verifications at once, whatever the core count (each holds ~19 MiB).
const MAX_SLOTS: usize = 4;

/// The outcome of presenting credentials.
#[derive(Debug)]
pub enum AuthOutcome {
    Verified(Identity),
    /// Wrong credentials: challenge again.
    Failed,
    /// Too many failures from this source or for this name: try again after this long.
    Throttled(Duration),
    /// Every verification slot stayed taken: try again shortly.
    Busy,
}

/// Verification slots, failure throttling and their counters.
pub struct AuthGuard {
    slots: Arc<Semaphore>,
    /// Argon2 working memory, at most one buffer per slot, reused (see `verify_password`).
    scratch: Arc<Mutex<Vec<Vec<Block>>>>,
    throttle: Throttle,
    pub verifications: AtomicU64,
    pub failures: AtomicU64,
    pub throttled: AtomicU64,
    pub busy: AtomicU64,
}

impl Default for AuthGuard {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::with_slots(cores.clamp(1, MAX_SLOTS))
    }
}

impl AuthGuard {
    pub fn with_slots(slots: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(slots)),
            scratch: Arc::default(),
            throttle: Throttle::default(),
            verifications: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            busy: AtomicU64::new(0),
        }
    }

    /// Checks a `Proxy-Authorization` value presented by `source`.
    pub async fn authenticate(
        &self,
        users: &Arc<UserDirectory>,
        source: IpAddr,
        header: &str,
    ) -> AuthOutcome {
        let (name, password) = match Credentials::parse(header) {
            Credentials::Basic { name, password } => (name, password),
            Credentials::Bearer(token) => {
                if let Some(wait) = self.throttle.wait(source, "") {
                    return self.refuse_throttled(wait);
                }
                return match users.verify_token(&token) {
                    Some(identity) => AuthOutcome::Verified(identity),
                    None => self.fail(source, ""),
                };
            }
            Credentials::Malformed => return self.fail(source, ""),
        };
        // The throttle comes before the cache: otherwise a throttled guesser would still learn
        // at full speed whether a guess matches a credential someone else just used.
        if let Some(wait) = self.throttle.wait(source, &name) {
            return self.refuse_throttled(wait);
        }
        if let Some(identity) = users.cached(header) {
            return AuthOutcome::Verified(identity);
        }
        let Ok(Ok(permit)) =
            tokio::time::timeout(QUEUE_WAIT, self.slots.clone().acquire_owned()).await
        else {
            self.busy.fetch_add(1, Relaxed);
            return AuthOutcome::Busy;
        };
        // Failures recorded while this request queued count too: a flood that queued up
        // before the first failures came back must not all be hashed.
        if let Some(wait) = self.throttle.wait(source, &name) {
            return self.refuse_throttled(wait);
        }
        self.verifications.fetch_add(1, Relaxed);
        let directory = users.clone();
        let checked_name = name.clone();
        let scratch = self.scratch.clone();
        let verified = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            // One working buffer per slot: taken with the permit, given back before it.
            let mut memory = lock(&scratch).pop().unwrap_or_default();
            let verified = directory.verify_password(&checked_name, &password, &mut memory);
            lock(&scratch).push(memory);
            verified
        })
        .await
        .ok()
        .flatten();
        match verified {
            Some(identity) => {
                self.throttle.succeeded(source, &name);
                users.remember(header, identity.clone());
                AuthOutcome::Verified(identity)
            }
            None => self.fail(source, &name),
        }
    }

    fn fail(&self, source: IpAddr, name: &str) -> AuthOutcome {
        self.failures.fetch_add(1, Relaxed);
        self.throttle.failed(source, name);
        AuthOutcome::Failed
    }

    fn refuse_throttled(&self, wait: Duration) -> AuthOutcome {
        self.throttled.fetch_add(1, Relaxed);
        AuthOutcome::Throttled(wait)
    }

    /// Prometheus lines for the counters.
    pub fn render_metrics(&self, out: &mut Exposition) {
        for (name, help, value) in [
            (
                "warden_proxy_auth_verifications_total",
                "Proxy passwords checked with argon2.",
                &self.verifications,
            ),
            (
                "warden_proxy_auth_failures_total",
                "Proxy credentials refused as wrong.",
                &self.failures,
            ),
            (
                "warden_proxy_auth_throttled_total",
                "Proxy logins refused unverified: too many recent failures.",
                &self.throttled,
            ),
            (
                "warden_proxy_auth_busy_total",
                "Proxy logins refused: every verification slot stayed busy.",
                &self.busy,
            ),
        ] {
            out.single(name, Kind::Counter, help, value.load(Relaxed));
        }
        let (sources, names) = self.throttle.sizes();
        out.labelled(
            "warden_proxy_auth_throttle_entries",
            Kind::Gauge,
            "Sources and names with recent failed logins (bounded).",
            "table",
            [("sources", sources as u64), ("names", names as u64)],
        );
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn basic(user_pass: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(user_pass)
        )
    }

    #[tokio::test]
    async fn known_and_unknown_names_meet_the_same_answers() {
        let hash = crate::identity::hash_password("s3cret").unwrap();
        let text = format!("[[user]]\nname = \"alice\"\npassword_hash = \"{hash}\"\n");
        let users = Arc::new(UserDirectory::parse("u.toml", &text).unwrap());
        let guard = AuthGuard::with_slots(2);
        let answers = |source: [u8; 4], name: &'static str| {
            let (guard, users) = (&guard, users.clone());
            async move {
                let mut seen = Vec::new();
                for _ in 0..crate::identity::throttle::SOURCE_FREE_FAILURES + 2 {
                    let header = basic(&format!("{name}:wrong"));
                    seen.push(
                        match guard.authenticate(&users, source.into(), &header).await {
                            AuthOutcome::Failed => "failed",
                            AuthOutcome::Throttled(_) => "throttled",
                            other => panic!("{other:?}"),
                        },
                    );
                }
                seen
            }
        };
        let known = answers([192, 0, 2, 1], "alice").await;
        let unknown = answers([192, 0, 2, 2], "mallory").await;
        assert_eq!(known, unknown);
        assert_eq!(known.last(), Some(&"throttled"));
        assert_eq!(
            guard.verifications.load(Relaxed),
            12,
            "throttled tries are not hashed"
        );
        let good = guard
            .authenticate(&users, [192, 0, 2, 3].into(), &basic("alice:s3cret"))
            .await;
        assert!(matches!(good, AuthOutcome::Verified(ref i) if i.user == "alice"));
        let again = guard
            .authenticate(&users, [192, 0, 2, 3].into(), &basic("alice:s3cret"))
            .await;
        assert!(matches!(again, AuthOutcome::Verified(_)));
        assert_eq!(
            guard.verifications.load(Relaxed),
            13,
            "the second was cached"
        );
        // Even a cached credential is no oracle for a throttled source.
        let guessed = guard
            .authenticate(&users, [192, 0, 2, 1].into(), &basic("alice:s3cret"))
            .await;
        assert!(matches!(guessed, AuthOutcome::Throttled(_)));
    }
}
