//! The connections to the shared Redis: at most `pool` open, each with read, write and
//! connect timeouts, reused while they work and dropped on the first error; after a failure
//! Redis is left alone for a backoff (100 ms doubling to 5 s) during which operations fail at
//! once, so that a Redis that is down costs calls no waiting.
//!
//! Never: wait without bound (every wait has the configured timeout), open more than `pool`
//! connections, or block a Tokio worker without telling the runtime (`blocking`).

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The longest backoff between attempts to reach a Redis that failed.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

struct Slots {
    idle: Vec<redis::Connection>,
    open: usize,
    /// No attempt before this instant (backoff after a failure).
    down_until: Option<Instant>,
    failures: u32,
}

/// A bounded pool of blocking connections to one Redis.
pub struct Pool {
    client: redis::Client,
    timeout: Duration,
    size: usize,
    slots: Mutex<Slots>,
    freed: Condvar,
}

/// Why an operation did not reach Redis or got no answer.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("Redis is in backoff after a failure")]
    Backoff,
    #[error("no Redis connection free within the timeout")]
    Busy,
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
}

impl Pool {
    /// A pool for `url` (checked by the configuration); opens nothing yet.
    pub fn new(url: &str, timeout: Duration, size: usize) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("aigw.shared.redis: {e}"))?;
        Ok(Self {
            client,
            timeout,
            size: size.max(1),
            slots: Mutex::new(Slots {
                idle: Vec::new(),
                open: 0,
                down_until: None,
                failures: 0,
            }),
            freed: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Slots> {
        // Plain counts and a list of connections: nothing a panic could leave half-done.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the last operation reached Redis (no backoff in force).
    pub fn up(&self) -> bool {
        self.lock().down_until.is_none()
    }

    /// Runs `op` on a connection, within the timeout, off the Tokio worker's budget.
    pub fn run<T>(
        &self,
        op: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, PoolError> {
        blocking(|| self.run_blocking(op))
    }

    fn run_blocking<T>(
        &self,
        op: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, PoolError> {
        let mut conn = self.take()?;
        match op(&mut conn) {
            Ok(value) => {
                self.give_back(conn, true);
                Ok(value)
            }
            Err(e) => {
                // A connection that failed once may be out of step with Redis: dropped.
                self.give_back(conn, false);
                // An error Redis answered (a script's) says nothing about reaching it.
                if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() {
                    self.failed();
                }
                Err(PoolError::Redis(e))
            }
        }
    }

    fn take(&self) -> Result<redis::Connection, PoolError> {
        let deadline = Instant::now() + self.timeout;
        let mut slots = self.lock();
        loop {
            if let Some(until) = slots.down_until {
                if Instant::now() < until {
                    return Err(PoolError::Backoff);
                }
            }
            if let Some(conn) = slots.idle.pop() {
                return Ok(conn);
            }
            if slots.open < self.size {
                slots.open += 1;
                drop(slots);
                return self.connect().inspect_err(|_| {
                    self.lock().open -= 1;
                    self.freed.notify_one();
                });
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(PoolError::Busy);
            }
            slots = self
                .freed
                .wait_timeout(slots, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn connect(&self) -> Result<redis::Connection, PoolError> {
        let conn = self
            .client
            .get_connection_with_timeout(self.timeout)
            .inspect_err(|_| self.failed())?;
        conn.set_read_timeout(Some(self.timeout))?;
        conn.set_write_timeout(Some(self.timeout))?;
        Ok(conn)
    }

    fn give_back(&self, conn: redis::Connection, healthy: bool) {
        let mut slots = self.lock();
        if healthy {
            slots.idle.push(conn);
            if slots.down_until.take().is_some() || slots.failures > 0 {
                slots.failures = 0;
                tracing::info!(target: "aigw::budget", "the shared Redis answers again");
            }
        } else {
            slots.open = slots.open.saturating_sub(1);
        }
        drop(slots);
        self.freed.notify_one();
    }

    /// Starts or lengthens the backoff and drops idle connections (they are as dead).
    fn failed(&self) {
        let mut slots = self.lock();
        let dropped = slots.idle.len();
        slots.idle.clear();
        slots.open = slots.open.saturating_sub(dropped);
        let backoff = Duration::from_millis(100)
            .saturating_mul(1u32 << slots.failures.min(6))
            .min(MAX_BACKOFF);
        if slots.failures == 0 {
            tracing::warn!(target: "aigw::budget", "the shared Redis cannot be reached; budgets and limits follow their on_redis_down");
        }
        slots.failures = slots.failures.saturating_add(1);
        slots.down_until = Some(Instant::now() + backoff);
    }
}

/// Runs blocking `f`: on a multi-threaded Tokio runtime's worker, telling the runtime so
/// (`block_in_place`) so that other tasks move to other workers meanwhile.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}
