//! Where the counters of budgets and limits live: [`CounterStore`], the one interface the
//! budget phase uses, and [`MemoryStore`], the embedded one (this process's memory, one lock).
//! A shared store (Redis) implements the same three operations, each one atomic.
//!
//! Never: apply part of a reservation (every claim of a call is checked, then all are
//! applied, under one lock), let an amount go below zero, or grow without bound (at most
//! [`MAX_COUNTERS`] counters; past that, expired ones are dropped, then new ones refused).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::window::Window;

/// At most this many counters (scopes × budgets) at once.
pub const MAX_COUNTERS: usize = 100_000;

/// What one call asks of one counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The counter: `budget NAME` or `limit NAME metric`, and the scope value.
    pub key: String,
    pub window: Window,
    pub limit: u64,
    pub amount: u64,
    /// Held until settled (cost, tokens, calls in flight); otherwise counted at once for
    /// good (requests).
    pub hold: bool,
}

/// A claim that was granted, to settle later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub key: String,
    pub window: Window,
    /// The start of the period (or bucket) it was granted in: what it is settled into.
    pub period: u64,
    pub amount: u64,
    pub hold: bool,
    /// The counter's limit, what it had left once this was granted, and when its window
    /// resets (Unix seconds): the `x-ratelimit-*` headers of a successful answer.
    pub limit: u64,
    pub remaining: u64,
    pub reset_at: u64,
    /// The lease it is held under on the shared store (`super::shared`); 0: none (held in
    /// this process, or counted at once).
    pub lease: u64,
    /// Granted by this process within the shared store's local allowance (Redis was
    /// unreachable), and settled here.
    pub local: bool,
}

/// Why a reservation was refused: the first claim that would have gone over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Its index in the claims.
    pub index: usize,
    pub spent: u64,
    pub reserved: u64,
    pub limit: u64,
    /// When the window resets (unix seconds): the latest it waits for.
    pub reset_at: u64,
    /// Only reservations of calls in flight block it: it may pass as soon as they settle
    /// (below what they reserved), before `reset_at`.
    pub held_only: bool,
    /// The claim alone is over the limit: waiting never helps.
    pub never: bool,
    /// The store is full of counters (fail closed).
    pub full: bool,
    /// The shared store cannot be reached and the rule says `on_redis_down = "refuse"`.
    pub unavailable: bool,
}

/// A counter's spend before and after a settlement (for threshold alerts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub before: u64,
    pub after: u64,
    pub limit: u64,
}

/// One counter as views show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterView {
    pub key: String,
    pub window: Window,
    pub limit: u64,
    pub spent: u64,
    pub reserved: u64,
    pub reset_at: u64,
}

/// The counters of budgets and limits. Every method is atomic on its own.
pub trait CounterStore: Send + Sync {
    /// Grants every claim or none: `Err` names the first that would pass its limit.
    fn reserve(&self, claims: &[Claim], now: u64) -> Result<Vec<Held>, Refused>;
    /// Releases what `held` reserved and counts `actual[i]` for each in the period it was
    /// granted in. Returns the spend levels of the held claims, in order.
    fn settle(&self, held: &[Held], actual: &[u64], now: u64) -> Vec<Level>;
    /// Adds `spent` to a counter's period (rebuilding counters at start).
    fn seed(&self, key: &str, window: Window, limit: u64, period: u64, spent: u64, now: u64);
    /// Every live counter.
    fn snapshot(&self, now: u64) -> Vec<CounterView>;
    /// The shared store's state for `/healthz` and `/metrics`; `None`: embedded counters.
    fn shared_health(&self) -> Option<super::shared::Health> {
        None
    }
}

#[derive(Debug)]
struct Counter {
    window: Window,
    limit: u64,
    /// Calendar and fixed windows: the current period's start and spend.
    period: u64,
    spent: u64,
    /// Rolling windows: (bucket start, spend), oldest first.
    buckets: VecDeque<(u64, u64)>,
    /// Held by calls in flight, whatever period they were granted in.
    reserved: u64,
}

impl Counter {
    fn new(window: Window, limit: u64) -> Self {
        Self {
            window,
            limit,
            period: 0,
            spent: 0,
            buckets: VecDeque::new(),
            reserved: 0,
        }
    }

    /// Moves to the period `now` is in, forgetting what left the window.
    fn roll(&mut self, now: u64) {
        match self.window {
            Window::Rolling(len) => {
                let bucket = Window::bucket_len(len);
                while let Some(&(start, _)) = self.buckets.front() {
                    if start + bucket + len <= now {
                        self.buckets.pop_front();
                    } else {
                        break;
                    }
                }
            }
            Window::InFlight => {}
            _ => {
                let (start, _) = self.window.period(now);
                if start != self.period {
                    self.period = start;
                    self.spent = 0;
                }
            }
        }
    }

    fn spent(&self) -> u64 {
        match self.window {
            Window::Rolling(_) => self.buckets.iter().map(|b| b.1).sum(),
            Window::InFlight => 0,
            _ => self.spent,
        }
    }

    /// When the oldest spend leaves the window.
    fn reset_at(&self, now: u64) -> u64 {
        match self.window {
            Window::Rolling(len) => {
                let bucket = Window::bucket_len(len);
                self.buckets
                    .front()
                    .map_or(now, |&(start, _)| start + bucket + len)
            }
            Window::InFlight => now + 1,
            w => w.period(now).1,
        }
    }

    /// Counts `amount` in the period starting at `period` (if it is still counted).
    fn add(&mut self, period: u64, amount: u64) {
        match self.window {
            Window::Rolling(_) => {
                if let Some(b) = self.buckets.iter_mut().find(|b| b.0 == period) {
                    b.1 = b.1.saturating_add(amount);
                } else {
                    let at = self.buckets.partition_point(|b| b.0 < period);
                    self.buckets.insert(at, (period, amount));
                }
            }
            Window::InFlight => {}
            _ => {
                if period == self.period {
                    self.spent = self.spent.saturating_add(amount);
                }
            }
        }
    }

    fn idle(&self) -> bool {
        self.reserved == 0 && self.spent() == 0
    }
}

/// The embedded store: counters in this process, behind one lock (a reservation touches a
/// handful of counters for well under a microsecond).
#[derive(Debug, Default)]
pub struct MemoryStore {
    counters: Mutex<HashMap<String, Counter>>,
}

impl MemoryStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Counter>> {
        // A panic while holding the lock cannot leave a counter half-updated in a way that
        // lets spend through (updates are single additions), so a poisoned lock is used on.
        self.counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn make_room(counters: &mut HashMap<String, Counter>, now: u64) -> bool {
    if counters.len() < MAX_COUNTERS {
        return true;
    }
    counters.retain(|_, c| {
        c.roll(now);
        !c.idle()
    });
    counters.len() < MAX_COUNTERS
}

impl CounterStore for MemoryStore {
    fn reserve(&self, claims: &[Claim], now: u64) -> Result<Vec<Held>, Refused> {
        let mut counters = self.lock();
        // Check every claim first: nothing is applied unless all fit.
        for (index, claim) in claims.iter().enumerate() {
            if !counters.contains_key(&claim.key) {
                if !make_room(&mut counters, now) {
                    return Err(Refused {
                        index,
                        spent: 0,
                        reserved: 0,
                        limit: claim.limit,
                        reset_at: now + 1,
                        held_only: false,
                        never: false,
                        full: true,
                        unavailable: false,
                    });
                }
                counters.insert(claim.key.clone(), Counter::new(claim.window, claim.limit));
            }
            let Some(counter) = counters.get_mut(&claim.key) else {
                continue;
            };
            counter.limit = claim.limit;
            counter.roll(now);
            let spent = counter.spent();
            let total = spent
                .saturating_add(counter.reserved)
                .saturating_add(claim.amount);
            if total > claim.limit {
                return Err(Refused {
                    index,
                    spent,
                    reserved: counter.reserved,
                    limit: claim.limit,
                    // The window's real end, even when only reservations block (they may
                    // settle to all they reserved): `held_only` says it may pass sooner.
                    reset_at: counter.reset_at(now).max(now + 1),
                    held_only: spent.saturating_add(claim.amount) <= claim.limit,
                    never: claim.amount > claim.limit,
                    full: false,
                    unavailable: false,
                });
            }
        }
        let mut held = Vec::with_capacity(claims.len());
        for claim in claims {
            let Some(counter) = counters.get_mut(&claim.key) else {
                continue;
            };
            let (period, _) = claim.window.period(now);
            if claim.hold {
                counter.reserved = counter.reserved.saturating_add(claim.amount);
            } else {
                counter.add(period, claim.amount);
            }
            let used = counter.spent().saturating_add(counter.reserved);
            held.push(Held {
                key: claim.key.clone(),
                window: claim.window,
                period,
                amount: claim.amount,
                hold: claim.hold,
                limit: claim.limit,
                remaining: claim.limit.saturating_sub(used),
                reset_at: counter.reset_at(now),
                lease: 0,
                local: false,
            });
        }
        Ok(held)
    }

    fn settle(&self, held: &[Held], actual: &[u64], now: u64) -> Vec<Level> {
        let mut counters = self.lock();
        let mut levels = Vec::with_capacity(held.len());
        for (i, h) in held.iter().enumerate() {
            let Some(counter) = counters.get_mut(&h.key) else {
                levels.push(Level {
                    before: 0,
                    after: 0,
                    limit: 0,
                });
                continue;
            };
            counter.roll(now);
            let before = counter.spent();
            if h.hold {
                counter.reserved = counter.reserved.saturating_sub(h.amount);
                counter.add(h.period, actual.get(i).copied().unwrap_or(h.amount));
            }
            let current = matches!(counter.window, Window::Rolling(_))
                || counter.window.period(now).0 == h.period;
            levels.push(Level {
                // A settlement into a period that is over raises no alert for the new one.
                before: if current { before } else { counter.spent() },
                after: counter.spent(),
                limit: counter.limit,
            });
        }
        levels
    }

    fn seed(&self, key: &str, window: Window, limit: u64, period: u64, spent: u64, now: u64) {
        let mut counters = self.lock();
        if !counters.contains_key(key) && !make_room(&mut counters, now) {
            return;
        }
        let counter = counters
            .entry(key.to_string())
            .or_insert_with(|| Counter::new(window, limit));
        counter.roll(now);
        counter.add(period, spent);
    }

    fn snapshot(&self, now: u64) -> Vec<CounterView> {
        let mut counters = self.lock();
        let mut out: Vec<CounterView> = counters
            .iter_mut()
            .map(|(key, c)| {
                c.roll(now);
                CounterView {
                    key: key.clone(),
                    window: c.window,
                    limit: c.limit,
                    spent: c.spent(),
                    reserved: c.reserved,
                    reset_at: c.reset_at(now),
                }
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }
}

#[cfg(test)]
mod tests;
