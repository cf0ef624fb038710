//! The circuit breaker of each deployment (`provider/model`) a route uses: `failures`
//! failures within `window` open it; while open, calls skip it without a connection attempt;
//! after `cooldown` one call probes it (half-open) — success closes it, failure opens it for
//! another cooldown. A probe whose call vanished (the caller hung up) is forgotten after a
//! cooldown, so a deployment can never stay half-open for ever.
//!
//! Never: hold the lock across an await, or grow past the deployments routes name (only
//! those are ever keyed here).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use config::AigwBreaker;

/// What the breaker says about one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Closed: call it.
    Closed,
    /// Half-open: this call is the one probe.
    Probe,
    /// Open: skip it; it may be probed in `retry_in`.
    Open { retry_in: Duration },
}

#[derive(Debug, Default)]
struct State {
    failures: VecDeque<Instant>,
    open_until: Option<Instant>,
    probe_since: Option<Instant>,
    opened: u64,
}

/// One deployment's breaker as `explain` and `/metrics` show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BreakerView {
    pub deployment: String,
    /// `closed`, `open` or `half_open`.
    pub state: &'static str,
    /// Failures within the window (closed), for how many seconds more it stays open (open).
    pub recent_failures: usize,
    pub open_for_ms: u64,
    /// How many times it opened since start.
    pub opened: u64,
}

/// Every deployment's breaker.
pub struct Breakers {
    failures: usize,
    window: Duration,
    cooldown: Duration,
    states: Mutex<BTreeMap<String, State>>,
    /// With `[aigw.shared] redis`: the state every replica shares, asked first; this
    /// process's own states answer while Redis does not.
    pub(crate) shared: Option<crate::budget::shared::breaker::SharedBreakers>,
}

impl Breakers {
    /// Breakers for `deployments` (their `provider/model` names), all closed.
    pub fn new<'a>(config: &AigwBreaker, deployments: impl Iterator<Item = &'a str>) -> Self {
        Self {
            failures: usize::try_from(config.failures)
                .unwrap_or(usize::MAX)
                .max(1),
            window: config.window.0,
            cooldown: config.cooldown.0,
            states: Mutex::new(
                deployments
                    .map(|d| (d.to_string(), State::default()))
                    .collect(),
            ),
            shared: None,
        }
    }

    /// The same breakers, shared with the other replicas through `shared`.
    pub fn with_shared(
        mut self,
        shared: Option<crate::budget::shared::breaker::SharedBreakers>,
    ) -> Self {
        self.shared = shared;
        self
    }

    fn with<T>(&self, deployment: &str, f: impl FnOnce(&mut State) -> T) -> Option<T> {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        states.get_mut(deployment).map(f)
    }

    /// Whether `deployment` may be called now (an unknown one always may).
    pub fn check(&self, deployment: &str) -> Gate {
        if !self.known(deployment) {
            return Gate::Closed;
        }
        if let Some(gate) = self.shared.as_ref().and_then(|s| s.check(deployment)) {
            return gate;
        }
        self.check_at(deployment, Instant::now())
    }

    fn known(&self, deployment: &str) -> bool {
        let states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        states.contains_key(deployment)
    }

    fn check_at(&self, deployment: &str, now: Instant) -> Gate {
        let cooldown = self.cooldown;
        self.with(deployment, |s| match s.open_until {
            None => Gate::Closed,
            Some(until) if now < until => Gate::Open {
                retry_in: until - now,
            },
            Some(_) => match s.probe_since {
                Some(since) if now.duration_since(since) < cooldown => Gate::Open {
                    retry_in: cooldown - now.duration_since(since),
                },
                _ => {
                    s.probe_since = Some(now);
                    Gate::Probe
                }
            },
        })
        .unwrap_or(Gate::Closed)
    }

    /// The deployment answered (or failed in a way that is the caller's, not its own).
    pub fn success(&self, deployment: &str) {
        if let (Some(shared), true) = (&self.shared, self.known(deployment)) {
            shared.success(deployment);
        }
        self.with(deployment, |s| {
            s.failures.clear();
            s.open_until = None;
            s.probe_since = None;
        });
    }

    /// The deployment failed; true when this failure opened it.
    pub fn failure(&self, deployment: &str, gate: Gate) -> bool {
        // This process's count is kept too: it answers while Redis does not.
        let local = self.failure_at(deployment, gate, Instant::now());
        match (&self.shared, self.known(deployment)) {
            (Some(shared), true) => {
                let opened = shared.failure(deployment, gate);
                if opened == Some(true) && !local {
                    self.with(deployment, |s| s.opened += 1);
                }
                opened.unwrap_or(local)
            }
            _ => local,
        }
    }

    fn failure_at(&self, deployment: &str, gate: Gate, now: Instant) -> bool {
        let (limit, window, cooldown) = (self.failures, self.window, self.cooldown);
        self.with(deployment, |s| {
            s.probe_since = None;
            if gate == Gate::Probe || s.open_until.is_some() {
                s.open_until = Some(now + cooldown);
                return false;
            }
            while s
                .failures
                .front()
                .is_some_and(|t| now.duration_since(*t) > window)
            {
                s.failures.pop_front();
            }
            s.failures.push_back(now);
            if s.failures.len() >= limit {
                s.failures.clear();
                s.open_until = Some(now + cooldown);
                s.opened += 1;
                return true;
            }
            false
        })
        .unwrap_or(false)
    }

    /// Every deployment's state, by name.
    pub fn views(&self) -> Vec<BreakerView> {
        let now = Instant::now();
        let states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        states
            .iter()
            .map(|(name, s)| {
                let recent = s
                    .failures
                    .iter()
                    .filter(|t| now.duration_since(**t) <= self.window)
                    .count();
                let (state, open_for) = match s.open_until {
                    None => ("closed", Duration::ZERO),
                    Some(until) if now < until => ("open", until - now),
                    Some(_) => ("half_open", Duration::ZERO),
                };
                BreakerView {
                    deployment: name.clone(),
                    state,
                    recent_failures: recent,
                    open_for_ms: u64::try_from(open_for.as_millis()).unwrap_or(u64::MAX),
                    opened: s.opened,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breakers(failures: u32) -> Breakers {
        let config = AigwBreaker {
            failures,
            window: config::ConfigDuration::secs(10),
            cooldown: config::ConfigDuration::secs(5),
        };
        Breakers::new(&config, ["a/m"].into_iter())
    }

    #[test]
    fn opens_after_n_failures_in_the_window_then_probes_once() {
        let b = breakers(3);
        let t0 = Instant::now();
        assert_eq!(b.check_at("a/m", t0), Gate::Closed);
        assert!(!b.failure_at("a/m", Gate::Closed, t0));
        // An old failure leaves the window: two recent ones do not open it.
        let t1 = t0 + Duration::from_secs(11);
        assert!(!b.failure_at("a/m", Gate::Closed, t1));
        assert!(!b.failure_at("a/m", Gate::Closed, t1));
        assert_eq!(b.check_at("a/m", t1), Gate::Closed);
        assert!(b.failure_at("a/m", Gate::Closed, t1));
        assert!(matches!(b.check_at("a/m", t1), Gate::Open { .. }));
        // After the cooldown: one probe, the others still skip it.
        let t2 = t1 + Duration::from_secs(6);
        assert_eq!(b.check_at("a/m", t2), Gate::Probe);
        assert!(matches!(b.check_at("a/m", t2), Gate::Open { .. }));
        // The probe fails: open again for a whole cooldown.
        b.failure_at("a/m", Gate::Probe, t2);
        assert!(matches!(
            b.check_at("a/m", t2 + Duration::from_secs(4)),
            Gate::Open { .. }
        ));
        let t3 = t2 + Duration::from_secs(6);
        assert_eq!(b.check_at("a/m", t3), Gate::Probe);
        b.success("a/m");
        assert_eq!(b.check_at("a/m", t3), Gate::Closed);
        assert_eq!(b.views()[0].opened, 1);
    }

    #[test]
    fn a_lost_probe_is_forgotten_after_a_cooldown_and_unknown_deployments_pass() {
        let b = breakers(1);
        let t0 = Instant::now();
        assert!(b.failure_at("a/m", Gate::Closed, t0));
        let t1 = t0 + Duration::from_secs(6);
        assert_eq!(b.check_at("a/m", t1), Gate::Probe);
        // Its caller vanished: no verdict. A cooldown later another call may probe.
        assert!(matches!(
            b.check_at("a/m", t1 + Duration::from_secs(1)),
            Gate::Open { .. }
        ));
        assert_eq!(b.check_at("a/m", t1 + Duration::from_secs(6)), Gate::Probe);
        assert_eq!(b.check_at("x/y", t0), Gate::Closed);
        assert!(!b.failure_at("x/y", Gate::Closed, t0));
        assert_eq!(b.views().len(), 1);
    }
}
