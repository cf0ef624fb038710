//! Passes: what "Continue" on a coaching page grants — one holder may use one app for a
//! while (`coaching.pass_duration`) without the warning. Kept only in the gateway's memory
//! and looked up by the identity the proxy established, so there is nothing for a client to
//! forge or replay, and another person's pass never applies.
//!
//! What it must never do: grant a pass that does not expire, or hold more than the
//! configured number (the soonest to expire go first when full).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use super::Holder;

/// One live pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pass {
    /// The warning's rule the holder continued past.
    pub rule: String,
    /// What the holder wrote (cleaned and bounded), empty when nothing.
    pub justification: String,
    pub granted_at: SystemTime,
    expires: Instant,
}

/// Live passes by holder and app.
#[derive(Default)]
pub struct Passes {
    table: Mutex<HashMap<(Holder, String), Arc<Pass>>>,
}

impl Passes {
    /// Grants (or renews) `holder`'s pass for `app_id`, within `max` passes in all.
    pub fn grant(
        &self,
        holder: Holder,
        app_id: &str,
        rule: &str,
        justification: &str,
        duration: Duration,
        max: usize,
    ) {
        let now = Instant::now();
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (holder, app_id.to_string());
        if !table.contains_key(&key) && table.len() >= max.max(1) {
            table.retain(|_, pass| pass.expires > now);
            while table.len() >= max.max(1) {
                let soonest = table
                    .iter()
                    .min_by_key(|(_, pass)| pass.expires)
                    .map(|(k, _)| k.clone());
                match soonest {
                    Some(k) => table.remove(&k),
                    None => break,
                };
            }
        }
        table.insert(
            key,
            Arc::new(Pass {
                rule: rule.to_string(),
                justification: justification.to_string(),
                granted_at: SystemTime::now(),
                expires: now + duration,
            }),
        );
    }

    /// `holder`'s live pass for `app_id`.
    pub fn live(&self, holder: &Holder, app_id: &str) -> Option<Arc<Pass>> {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        // The key is built to look up; holders are small.
        let key = (holder.clone(), app_id.to_string());
        let pass = table.get(&key)?;
        if pass.expires > Instant::now() {
            return Some(pass.clone());
        }
        table.remove(&key);
        None
    }

    /// Passes held (live or not yet cleared).
    pub fn len(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(user: &str) -> Holder {
        Holder {
            user: user.into(),
            device: String::new(),
            address: None,
        }
    }

    #[test]
    fn a_pass_is_one_holders_for_one_app_and_ends() {
        let passes = Passes::default();
        passes.grant(
            holder("alice"),
            "claude",
            "warn",
            "research",
            Duration::from_millis(30),
            10,
        );
        assert_eq!(
            passes
                .live(&holder("alice"), "claude")
                .unwrap()
                .justification,
            "research"
        );
        assert!(passes.live(&holder("bob"), "claude").is_none());
        assert!(passes.live(&holder("alice"), "gemini").is_none());
        std::thread::sleep(Duration::from_millis(40));
        assert!(passes.live(&holder("alice"), "claude").is_none());
    }

    #[test]
    fn passes_stay_bounded() {
        let passes = Passes::default();
        for i in 0..100 {
            passes.grant(
                holder(&format!("u{i}")),
                "claude",
                "w",
                "",
                Duration::from_secs(60 + i),
                10,
            );
        }
        assert_eq!(passes.len(), 10);
        assert!(
            passes.live(&holder("u99"), "claude").is_some(),
            "the newest is kept"
        );
    }
}
