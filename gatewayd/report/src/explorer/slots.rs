//! How many log explorer queries run at once: each holds a slot while it runs, and one more
//! than `admin.query_concurrency` is refused at once (429) instead of queueing, so a burst of
//! heavy queries cannot pile up answers in the gateway's memory. The limit is read at each
//! acquire, so a reload changes it for the next query.
//!
//! It must never let a slot outlive its query: the slot is released when dropped.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::ExplorerError;

/// The running-query counter, shared by the API and the dashboard.
#[derive(Debug, Default, Clone)]
pub struct ExplorerSlots {
    running: Arc<AtomicUsize>,
}

/// One running query; dropping it frees the slot.
#[derive(Debug)]
pub struct ExplorerSlot {
    running: Arc<AtomicUsize>,
}

impl ExplorerSlots {
    /// A slot if fewer than `limit` queries run, else [`ExplorerError::Busy`].
    pub fn acquire(&self, limit: usize) -> Result<ExplorerSlot, ExplorerError> {
        self.running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .map_err(|_| ExplorerError::Busy(limit))?;
        Ok(ExplorerSlot {
            running: Arc::clone(&self.running),
        })
    }

    /// Queries running now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::Acquire)
    }
}

impl Drop for ExplorerSlot {
    fn drop(&mut self) {
        self.running.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_more_than_the_limit_is_refused_until_a_slot_frees() {
        let slots = ExplorerSlots::default();
        let first = slots.acquire(2).unwrap();
        let _second = slots.acquire(2).unwrap();
        assert!(matches!(slots.acquire(2), Err(ExplorerError::Busy(2))));
        drop(first);
        assert_eq!(slots.running(), 1);
        assert!(slots.acquire(2).is_ok());
    }
}
