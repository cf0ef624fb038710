//! Each caller's share of the request-body memory budget (`aigw.max_body_memory`): a key
//! (or, on the identity path, a user) may hold at most a quarter of it across its bodies in
//! flight, so one key sending many large or wide bodies at once cannot hold the whole budget
//! and make every other caller's call wait and fail with 503. A caller holding nothing may
//! always take what its one body needs (the gateway-wide budget still bounds that), so a
//! single large body is never refused by its share alone.
//!
//! Never: keep an entry for a caller that holds nothing (the table stays bounded by the
//! bodies in flight), or name a key's secret (only its id) in an error.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::CallError;

/// The part of the budget one caller may hold: this fraction's denominator.
pub const SHARE_DIVISOR: usize = 4;

/// Units (KiB) held per caller.
pub struct Shares {
    held: Mutex<HashMap<String, usize>>,
    share: usize,
}

/// One body's part of its caller's share; given back when dropped.
pub struct ShareHold {
    shares: Arc<Shares>,
    owner: String,
    units: usize,
}

impl Shares {
    /// Shares of a budget of `max_units` units.
    pub fn new(max_units: usize) -> Self {
        Self {
            held: Mutex::new(HashMap::new()),
            share: (max_units / SHARE_DIVISOR).max(1),
        }
    }

    /// Counts `units` for `owner`, or refuses (503) when it already holds some and this would
    /// take it past its share.
    pub fn claim(self: &Arc<Self>, owner: &str, units: usize) -> Result<ShareHold, CallError> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let now = held.get(owner).copied().unwrap_or(0);
        if now > 0 && now.saturating_add(units) > self.share {
            return Err(CallError::Overloaded(
                "Warden: this caller's request bodies already hold its share (a quarter) of \
                 the AI gateway's body memory (aigw.max_body_memory); send fewer large \
                 bodies at once, or try again shortly"
                    .into(),
            ));
        }
        held.insert(owner.to_string(), now.saturating_add(units));
        Ok(ShareHold {
            shares: self.clone(),
            owner: owner.to_string(),
            units,
        })
    }
}

impl Drop for ShareHold {
    fn drop(&mut self) {
        let mut held = self.shares.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(now) = held.get_mut(&self.owner) {
            *now = now.saturating_sub(self.units);
            if *now == 0 {
                held.remove(&self.owner);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_holds_at_most_a_quarter_unless_it_holds_nothing() {
        let shares = Arc::new(Shares::new(100));
        // Alone, one body may take more than the share.
        let big = shares.claim("key:a", 80);
        assert!(big.is_ok());
        assert!(
            shares.claim("key:a", 1).is_err(),
            "a second body past the share"
        );
        assert!(
            shares.claim("key:b", 10).is_ok(),
            "another caller is not held up"
        );
        drop(big);
        let small: Vec<_> = (0..5).map(|_| shares.claim("key:a", 5)).collect();
        assert!(small.iter().all(Result::is_ok), "25 units fit the share");
        assert!(shares.claim("key:a", 1).is_err());
        drop(small);
        assert!(shares.held.lock().map(|h| h.is_empty()).unwrap_or(false));
    }
}
