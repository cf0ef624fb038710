//! Who may start an enrollment: the tunnel port answers strangers (clients without a device
//! certificate) only to enroll them, so what they can make the gateway hold is bounded here:
//! certificate-less connections open at once, enrollment requests in flight, and a rate per
//! source address.
//!
//! Every check answers at once; nothing here ever waits for room. Over a limit the caller
//! refuses (closes the connection, or answers 429/503), so a flood costs a refusal each, not a
//! queue. The per-source table is bounded too: when it is full of sources that are all still
//! limited, new sources are refused rather than the table grown (fail closed).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Most sources the rate table remembers.
const MAX_SOURCES: usize = 4096;

/// Why an enrollment attempt was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The gateway-wide limit is reached.
    Busy,
    /// This source has started too many lately.
    RateLimited,
}

/// The `tunnel.enroll_*` limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnrollLimits {
    /// Connections without a device certificate open at once.
    pub max_connections: usize,
    /// Enrollment requests being read or processed at once.
    pub max_in_flight: usize,
    /// Connections and requests one source address may start per minute.
    pub per_source_per_minute: u32,
}

/// The limits on certificate-less clients, shared by every connection of the tunnel port.
pub struct EnrollAdmission {
    connections: Arc<Semaphore>,
    in_flight: Arc<Semaphore>,
    rate: SourceRate,
}

impl EnrollAdmission {
    pub fn new(limits: &EnrollLimits) -> Self {
        Self {
            connections: Arc::new(Semaphore::new(limits.max_connections)),
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight)),
            rate: SourceRate::new(limits.per_source_per_minute, MAX_SOURCES),
        }
    }

    /// A certificate-less connection from `source` may stay open while the permit lives.
    pub fn connection(&self, source: IpAddr) -> Result<OwnedSemaphorePermit, Refusal> {
        self.rate.take(source, Instant::now())?;
        self.connections
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refusal::Busy)
    }

    /// An enrollment request from `source` may be read and processed while the permit lives.
    pub fn request(&self, source: IpAddr) -> Result<OwnedSemaphorePermit, Refusal> {
        self.rate.take(source, Instant::now())?;
        self.in_flight
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refusal::Busy)
    }
}

/// A token bucket per source: `per_minute` tokens, refilled evenly over a minute.
struct SourceRate {
    per_minute: f64,
    capacity: usize,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl SourceRate {
    fn new(per_minute: u32, capacity: usize) -> Self {
        Self {
            per_minute: f64::from(per_minute.max(1)),
            capacity,
            buckets: Mutex::default(),
        }
    }

    fn tokens(&self, (tokens, at): (f64, Instant), now: Instant) -> f64 {
        let refill = now.saturating_duration_since(at).as_secs_f64() * self.per_minute / 60.0;
        (tokens + refill).min(self.per_minute)
    }

    fn take(&self, source: IpAddr, now: Instant) -> Result<(), Refusal> {
        let key = source_key(source);
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if !buckets.contains_key(&key) && buckets.len() >= self.capacity {
            // Forget sources whose bucket is full again: they are as good as new.
            buckets.retain(|_, bucket| self.tokens(*bucket, now) < self.per_minute);
            if buckets.len() >= self.capacity {
                return Err(Refusal::RateLimited);
            }
        }
        let bucket = buckets.entry(key).or_insert((self.per_minute, now));
        let tokens = self.tokens(*bucket, now);
        if tokens < 1.0 {
            *bucket = (tokens, now);
            return Err(Refusal::RateLimited);
        }
        *bucket = (tokens - 1.0, now);
        Ok(())
    }
}

/// IPv4 addresses count one by one; IPv6 per /64, the block one host usually holds.
fn source_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            IpAddr::from(octets)
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_source_gets_its_burst_then_a_token_per_refill() {
        let rate = SourceRate::new(3, 16);
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(rate.take(a, t0), Ok(()));
        }
        assert_eq!(rate.take(a, t0), Err(Refusal::RateLimited));
        assert_eq!(rate.take(b, t0), Ok(()), "other sources are not affected");
        assert_eq!(
            rate.take(a, t0 + Duration::from_secs(10)),
            Err(Refusal::RateLimited)
        );
        assert_eq!(rate.take(a, t0 + Duration::from_secs(21)), Ok(()));
    }

    #[test]
    fn ipv6_counts_per_64_and_the_table_stays_bounded() {
        let rate = SourceRate::new(1, 2);
        let t0 = Instant::now();
        assert_eq!(rate.take("2001:db8::1".parse().unwrap(), t0), Ok(()));
        assert_eq!(
            rate.take("2001:db8::2".parse().unwrap(), t0),
            Err(Refusal::RateLimited),
            "same /64"
        );
        assert_eq!(rate.take("10.0.0.1".parse().unwrap(), t0), Ok(()));
        // Full of limited sources: a new one is refused, not added.
        assert_eq!(
            rate.take("10.0.0.2".parse().unwrap(), t0),
            Err(Refusal::RateLimited)
        );
        assert_eq!(rate.buckets.lock().unwrap().len(), 2);
        // A minute later the old ones are full again and make room.
        let later = t0 + Duration::from_secs(61);
        assert_eq!(rate.take("10.0.0.2".parse().unwrap(), later), Ok(()));
    }

    #[test]
    fn in_flight_requests_are_capped_and_released() {
        let limits = EnrollLimits {
            max_connections: 128,
            max_in_flight: 2,
            per_source_per_minute: 30,
        };
        let admission = EnrollAdmission::new(&limits);
        let ip = "10.0.0.9".parse().unwrap();
        let first = admission.request(ip).unwrap();
        let _second = admission.request(ip).unwrap();
        assert_eq!(admission.request(ip).err(), Some(Refusal::Busy));
        drop(first);
        assert!(admission.request(ip).is_ok());
    }
}
