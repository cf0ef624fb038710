//! The shared counter store (`[aigw.shared] redis`): the counters of budgets, limits and
//! concurrency caps on one Redis that every gatewayd replica uses, so that a team's budget
//! holds across all of them. It implements [`CounterStore`] like the embedded store:
//!
//! - a reserve-and-check is one Lua script (EVALSHA, EVAL when Redis lost the script) over the
//!   counters of one scope value, whose keys share a hash tag (`{team:mkt}`) and so a slot on
//!   Redis Cluster; a call in several scopes runs one script per scope, in order, and
//!   releases what it got from the earlier ones when a later one refuses;
//! - what a call in flight holds is a lease with an expiry (`[aigw.shared] lease`): a
//!   replica that dies stops holding its reservations and concurrency slots at expiry;
//! - windows are keys that expire (calendar and fixed periods) or hashes of rolling buckets
//!   that scripts prune;
//! - Redis unreachable: each budget's or limit's `on_redis_down` decides — `refuse` (503), or
//!   `local`: admitted within `local_allowance_percent` of the limit, counted in this process
//!   ([`MemoryStore`]) and in `warden_aigw_shared_local_reservations_total`.
//!
//! Never: admit a call no counter holds (Redis down and a rule says `refuse` refuses the
//! whole call), wait on Redis longer than `[aigw.shared] timeout` per operation, or write a
//! key outside `key_prefix`.

pub mod breaker;
mod pool;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};

use config::{AigwConfig, OnRedisDown};

use super::store::{Claim, CounterStore, CounterView, Held, Level, MemoryStore, Refused};
use super::window::Window;
pub use pool::{Pool, PoolError};

/// Amounts and limits above this are clamped: Lua counts in doubles, exact below 2^53.
const MAX_EXACT: u64 = 1 << 53;
/// Counters a replica remembers for views (`snapshot`).
const MAX_KNOWN: usize = 10_000;

fn script(body: &str) -> redis::Script {
    redis::Script::new(&format!("{}\n{body}", include_str!("shared/common.lua")))
}

/// The shared store's state, for `/healthz` and `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    /// The last operation reached Redis.
    pub up: bool,
    /// Calls refused because Redis was unreachable (`on_redis_down = "refuse"`).
    pub refused: u64,
    /// Calls admitted within the local allowance while Redis was unreachable.
    pub local: u64,
    /// Operations that failed (unreachable, timed out, or an error answered).
    pub errors: u64,
    /// Settlements that could not reach Redis (their reservations end at lease expiry).
    pub unsettled: u64,
}

/// Counters on a shared Redis.
pub struct SharedStore {
    pool: Pool,
    prefix: String,
    lease_secs: u64,
    on_down: HashMap<String, OnRedisDown>,
    default_down: OnRedisDown,
    allowance_percent: u64,
    local: MemoryStore,
    known: Mutex<HashMap<String, Window>>,
    next_lease: AtomicU64,
    scripts: [redis::Script; 4],
    refused: AtomicU64,
    local_admitted: AtomicU64,
    errors: AtomicU64,
    unsettled: AtomicU64,
}

/// A counter's Redis keys and how its window is kept.
struct Keys {
    spend: String,
    reserved: String,
    leases: String,
    marks: String,
    mode: u8,
    len: u64,
    bucket: u64,
}

impl SharedStore {
    /// The store `config.shared` asks for; `Ok(None)` without `redis`.
    pub fn from_config(config: &AigwConfig) -> Result<Option<Self>, String> {
        let shared = &config.shared;
        let Some(url) = &shared.redis else {
            return Ok(None);
        };
        let mut on_down = HashMap::new();
        for b in &config.budgets {
            on_down.insert(
                b.name.clone(),
                b.on_redis_down.unwrap_or(shared.on_redis_down),
            );
        }
        for l in &config.limits {
            on_down.insert(
                l.name.clone(),
                l.on_redis_down.unwrap_or(shared.on_redis_down),
            );
        }
        Ok(Some(Self {
            pool: Pool::new(url, shared.timeout.0, shared.pool)?,
            prefix: shared.key_prefix.clone(),
            lease_secs: shared.lease.0.as_secs().max(1),
            on_down,
            default_down: shared.on_redis_down,
            allowance_percent: u64::from(shared.local_allowance_percent.min(100)),
            local: MemoryStore::default(),
            known: Mutex::new(HashMap::new()),
            // Lease ids must not repeat across replicas: a random start per process.
            next_lease: AtomicU64::new((rand::random::<u64>() >> 12).max(1)),
            scripts: [
                script(include_str!("shared/reserve.lua")),
                script(include_str!("shared/settle.lua")),
                script(include_str!("shared/seed.lua")),
                script(include_str!("shared/peek.lua")),
            ],
            refused: AtomicU64::new(0),
            local_admitted: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            unsettled: AtomicU64::new(0),
        }))
    }

    /// Checks that Redis answers (at start: said in the log, never fatal).
    pub fn ping(&self) -> Result<(), PoolError> {
        self.pool
            .run(|c| redis::cmd("PING").query::<String>(c))
            .map(|_| ())
    }

    /// The hash tag of a counter key `NAME METRIC SCOPE:VALUE`, and `NAME METRIC`.
    fn split(key: &str) -> (String, &str) {
        let mut parts = key.splitn(3, ' ');
        let (name, metric, scope) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        let tag = scope
            .replace('%', "%25")
            .replace('{', "%7B")
            .replace('}', "%7D");
        (tag, &key[..(name.len() + 1 + metric.len()).min(key.len())])
    }

    fn keys(&self, key: &str, window: Window, period: u64) -> Keys {
        let (tag, counter) = Self::split(key);
        let base = format!("{}:{{{tag}}}", self.prefix);
        let (mode, len, bucket) = match window {
            Window::Rolling(len) => (1, len, Window::bucket_len(len)),
            Window::InFlight => (2, 0, 0),
            _ => (0, 0, 0),
        };
        Keys {
            spend: if mode == 0 {
                format!("{base}:s:{counter}:{period}")
            } else {
                format!("{base}:s:{counter}")
            },
            reserved: format!("{base}:r:{counter}"),
            leases: format!("{base}:l:{counter}"),
            marks: format!("{base}:m:{counter}"),
            mode,
            len,
            bucket,
        }
    }

    fn remember(&self, key: &str, window: Window) {
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        if known.len() < MAX_KNOWN || known.contains_key(key) {
            known.insert(key.to_string(), window);
        }
    }

    fn on_down(&self, key: &str) -> OnRedisDown {
        let name = key.split(' ').next().unwrap_or("");
        self.on_down.get(name).copied().unwrap_or(self.default_down)
    }

    /// The claims of one scope value, granted all or none.
    fn reserve_group(
        &self,
        claims: &[(usize, &Claim)],
        lease: u64,
        now: u64,
    ) -> Result<Result<Vec<Held>, Refused>, PoolError> {
        let mut inv = self.scripts[0].prepare_invoke();
        inv.arg(now)
            .arg(lease)
            .arg(now.saturating_add(self.lease_secs))
            .arg(self.lease_secs.saturating_add(60));
        let mut periods = Vec::with_capacity(claims.len());
        for (_, c) in claims {
            let (period, end) = c.window.period(now);
            let reset = if c.window == Window::InFlight {
                now + 1
            } else {
                end
            };
            let k = self.keys(&c.key, c.window, period);
            inv.key(&k.spend).key(&k.reserved).key(&k.leases);
            inv.arg(k.mode)
                .arg(k.len)
                .arg(k.bucket)
                .arg(period)
                .arg(reset)
                .arg(c.limit.min(MAX_EXACT))
                .arg(c.amount.min(MAX_EXACT))
                .arg(u8::from(c.hold));
            periods.push(period);
        }
        let answer: Vec<u64> = self.pool.run(|conn| inv.invoke(conn))?;
        if answer.first() == Some(&1) {
            let mut held = Vec::with_capacity(claims.len());
            for (j, ((_, c), period)) in claims.iter().zip(periods).enumerate() {
                let at = |k: usize| answer.get(1 + 3 * j + k).copied().unwrap_or(0);
                held.push(Held {
                    key: c.key.clone(),
                    window: c.window,
                    period,
                    amount: c.amount.min(MAX_EXACT),
                    hold: c.hold,
                    limit: c.limit,
                    remaining: c.limit.saturating_sub(at(0).saturating_add(at(1))),
                    reset_at: at(2).max(now + 1),
                    lease: if c.hold { lease } else { 0 },
                    local: false,
                });
            }
            return Ok(Ok(held));
        }
        let at = |k: usize| answer.get(k).copied().unwrap_or(0);
        let j = usize::try_from(at(1))
            .unwrap_or(0)
            .min(claims.len().saturating_sub(1));
        let (index, c) = claims[j];
        let (spent, reserved) = (at(2), at(3));
        Ok(Err(Refused {
            index,
            spent,
            reserved,
            limit: c.limit,
            reset_at: at(4).max(now + 1),
            held_only: spent.saturating_add(c.amount) <= c.limit,
            never: c.amount > c.limit,
            full: false,
            unavailable: false,
        }))
    }

    /// Settles the held claims of one scope value under one lease.
    fn settle_group(&self, held: &[(&Held, u64)], now: u64) -> Result<Vec<(u64, u64)>, PoolError> {
        let Some(lease) = held.first().map(|(h, _)| h.lease) else {
            return Ok(Vec::new());
        };
        let mut inv = self.scripts[1].prepare_invoke();
        inv.arg(now).arg(lease);
        for (h, actual) in held {
            let k = self.keys(&h.key, h.window, h.period);
            let end = if h.window == Window::InFlight {
                0
            } else {
                h.window.period(h.period).1
            };
            inv.key(&k.spend).key(&k.reserved).key(&k.leases);
            inv.arg(k.mode)
                .arg(k.len)
                .arg(k.bucket)
                .arg(h.period)
                .arg(end)
                .arg((*actual).min(MAX_EXACT))
                .arg(u8::from(h.hold))
                .arg(0);
        }
        let answer: Vec<u64> = self.pool.run(|conn| inv.invoke(conn))?;
        Ok((0..held.len())
            .map(|j| {
                let at = |k: usize| answer.get(2 * j + k).copied().unwrap_or(0);
                (at(0), at(1))
            })
            .collect())
    }

    /// Redis unreachable: refused if any rule says so, else within the local allowance.
    fn reserve_down(&self, claims: &[Claim], now: u64) -> Result<Vec<Held>, Refused> {
        if let Some(index) = claims
            .iter()
            .position(|c| self.on_down(&c.key) == OnRedisDown::Refuse)
        {
            self.refused.fetch_add(1, Relaxed);
            let c = &claims[index];
            return Err(Refused {
                index,
                spent: 0,
                reserved: 0,
                limit: c.limit,
                reset_at: now + 1,
                held_only: false,
                never: false,
                full: false,
                unavailable: true,
            });
        }
        let allowed: Vec<Claim> = claims
            .iter()
            .map(|c| Claim {
                limit: c.limit.saturating_mul(self.allowance_percent) / 100,
                ..c.clone()
            })
            .collect();
        let mut held = self
            .local
            .reserve(&allowed, now)
            .map_err(|refused| Refused {
                unavailable: true,
                ..refused
            })?;
        for h in &mut held {
            h.local = true;
        }
        self.local_admitted.fetch_add(1, Relaxed);
        tracing::info!(target: "aigw::budget", "call admitted within the local allowance: the shared Redis cannot be reached");
        Ok(held)
    }

    /// Gives back what `held` reserved on Redis (a later scope refused, or failed).
    fn release(&self, held: &[Held], now: u64) {
        let zero = vec![0; held.len()];
        self.settle(held, &zero, now);
    }
}

/// Claims grouped by hash tag, in the order their tags first appear.
fn groups(claims: &[Claim]) -> Vec<Vec<(usize, &Claim)>> {
    let mut out: Vec<(String, Vec<(usize, &Claim)>)> = Vec::new();
    for (i, c) in claims.iter().enumerate() {
        let (tag, _) = SharedStore::split(&c.key);
        match out.iter_mut().find(|(t, _)| *t == tag) {
            Some((_, g)) => g.push((i, c)),
            None => out.push((tag, vec![(i, c)])),
        }
    }
    out.into_iter().map(|(_, g)| g).collect()
}

impl CounterStore for SharedStore {
    fn reserve(&self, claims: &[Claim], now: u64) -> Result<Vec<Held>, Refused> {
        let lease = self.next_lease.fetch_add(1, Relaxed);
        for c in claims {
            self.remember(&c.key, c.window);
        }
        let mut held: Vec<(usize, Held)> = Vec::with_capacity(claims.len());
        for group in groups(claims) {
            match self.reserve_group(&group, lease, now) {
                Ok(Ok(got)) => held.extend(group.iter().map(|(i, _)| *i).zip(got)),
                Ok(Err(refused)) => {
                    let got: Vec<Held> = held.into_iter().map(|(_, h)| h).collect();
                    self.release(&got, now);
                    return Err(refused);
                }
                Err(error) => {
                    self.errors.fetch_add(1, Relaxed);
                    if !matches!(error, PoolError::Backoff) {
                        tracing::warn!(target: "aigw::budget", %error, "shared counters: reserve failed");
                    }
                    let got: Vec<Held> = held.into_iter().map(|(_, h)| h).collect();
                    self.release(&got, now);
                    return self.reserve_down(claims, now);
                }
            }
        }
        held.sort_by_key(|(i, _)| *i);
        Ok(held.into_iter().map(|(_, h)| h).collect())
    }

    fn settle(&self, held: &[Held], actual: &[u64], now: u64) -> Vec<Level> {
        let mut levels: Vec<Level> = held
            .iter()
            .map(|h| Level {
                before: 0,
                after: 0,
                limit: h.limit,
            })
            .collect();
        // Granted in this process (Redis was down): settled here.
        let local: Vec<usize> = (0..held.len())
            .filter(|&i| held[i].local && held[i].hold)
            .collect();
        if !local.is_empty() {
            let h: Vec<Held> = local.iter().map(|&i| held[i].clone()).collect();
            let a: Vec<u64> = local
                .iter()
                .map(|&i| actual.get(i).copied().unwrap_or(held[i].amount))
                .collect();
            for (&i, level) in local.iter().zip(self.local.settle(&h, &a, now)) {
                levels[i] = level;
            }
        }
        let mut by_tag: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, h) in held.iter().enumerate() {
            if h.lease == 0 || h.local {
                continue;
            }
            let (tag, _) = Self::split(&h.key);
            match by_tag.iter_mut().find(|(t, _)| *t == tag) {
                Some((_, g)) => g.push(i),
                None => by_tag.push((tag, vec![i])),
            }
        }
        for (_, group) in by_tag {
            let items: Vec<(&Held, u64)> = group
                .iter()
                .map(|&i| (&held[i], actual.get(i).copied().unwrap_or(held[i].amount)))
                .collect();
            match self.settle_group(&items, now) {
                Ok(answer) => {
                    for (&i, (before, after)) in group.iter().zip(answer) {
                        levels[i].before = before;
                        levels[i].after = after;
                    }
                }
                Err(error) => {
                    self.errors.fetch_add(1, Relaxed);
                    self.unsettled.fetch_add(1, Relaxed);
                    tracing::warn!(target: "aigw::budget", %error, "shared counters: a settlement did not reach Redis; its reservation holds until its lease expires");
                }
            }
        }
        levels
    }

    fn seed(&self, key: &str, window: Window, _limit: u64, period: u64, spent: u64, now: u64) {
        let k = self.keys(key, window, period);
        let reset = window.period(period).1;
        let mut inv = self.scripts[2].prepare_invoke();
        inv.key(&k.spend).key(&k.marks);
        inv.arg(now)
            .arg(k.mode)
            .arg(k.len)
            .arg(k.bucket)
            .arg(period)
            .arg(reset)
            .arg(spent.min(MAX_EXACT));
        match self.pool.run(|conn| inv.invoke::<u64>(conn)) {
            Ok(_) => self.remember(key, window),
            Err(error) => {
                self.errors.fetch_add(1, Relaxed);
                tracing::warn!(target: "aigw::budget", %error, counter = key, "shared counters: could not seed a counter from ai_requests");
            }
        }
    }

    fn snapshot(&self, now: u64) -> Vec<CounterView> {
        let known: Vec<(String, Window)> = self
            .known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(k, w)| (k.clone(), *w))
            .collect();
        let mut out = Vec::new();
        for (key, window) in known {
            let (period, end) = window.period(now);
            let k = self.keys(&key, window, period);
            let mut inv = self.scripts[3].prepare_invoke();
            inv.key(&k.spend).key(&k.reserved).key(&k.leases);
            inv.arg(now).arg(k.mode).arg(k.len).arg(k.bucket);
            let Ok(answer) = self.pool.run(|conn| inv.invoke::<Vec<u64>>(conn)) else {
                // Unreachable: what this replica counted on its own.
                return self.local.snapshot(now);
            };
            out.push(CounterView {
                key,
                window,
                limit: 0,
                spent: answer.first().copied().unwrap_or(0),
                reserved: answer.get(1).copied().unwrap_or(0),
                reset_at: if window == Window::InFlight {
                    now + 1
                } else {
                    end
                },
            });
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }

    fn shared_health(&self) -> Option<Health> {
        Some(Health {
            up: self.pool.up(),
            refused: self.refused.load(Relaxed),
            local: self.local_admitted.load(Relaxed),
            errors: self.errors.load(Relaxed),
            unsettled: self.unsettled.load(Relaxed),
        })
    }
}

#[cfg(test)]
mod tests;
