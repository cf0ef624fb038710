//! The gateway-wide budget of bytes that request bodies may hold while they are buffered for
//! inspection (`inspect.max_buffered_bytes`), so that many clients sending large bodies at
//! once cannot grow memory without bound.
//!
//! A body takes budget before its bytes are kept (its declared length up front, so bodies
//! queue for budget before they take memory instead of starving one another with partial
//! holds, then chunk by chunk beyond it) and gives it back when its [`BudgetHold`] drops —
//! after the body has been forwarded or refused. One owner (a person, else a client address)
//! may hold at most `inspect.max_buffered_bytes_per_user` of it, reserved or received, so one
//! user declaring large bodies and trickling them cannot take the budget from the rest.
//! It must never wait longer than `inspect.budget_wait` for budget: a body that cannot get it
//! is unscannable, and the policy's `on_unscannable` answers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::telemetry::events::{InspectBudgetExhausted, InternalEvent};
use crate::telemetry::Metrics;

/// Budget is counted in units of this many bytes, so the semaphore's `u32` acquisitions
/// cover bodies and budgets far beyond 4 GiB.
const UNIT: usize = 1024;

/// The shared budget.
#[derive(Clone)]
pub struct InspectBudget {
    units: Arc<Semaphore>,
    /// Units each owner may hold at once.
    per_owner: usize,
    /// Units held per owner; an owner leaves the map when it holds nothing, so the map is
    /// bounded by the bodies being buffered.
    owners: Arc<Mutex<HashMap<Arc<str>, usize>>>,
    wait: Duration,
    metrics: Arc<Metrics>,
}

/// The budget one body holds; released on drop.
pub struct BudgetHold {
    budget: Option<InspectBudget>,
    owner: Arc<str>,
    permit: Option<OwnedSemaphorePermit>,
    units: usize,
}

/// The budget could not be had within the wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetExhausted;

impl InspectBudget {
    pub fn new(
        max_bytes: usize,
        per_owner_bytes: usize,
        wait: Duration,
        metrics: Arc<Metrics>,
    ) -> Self {
        let units = max_bytes.div_ceil(UNIT).clamp(1, Semaphore::MAX_PERMITS);
        Self {
            units: Arc::new(Semaphore::new(units)),
            per_owner: per_owner_bytes.div_ceil(UNIT).clamp(1, units),
            owners: Arc::default(),
            wait,
            metrics,
        }
    }

    /// An empty hold on this budget for `owner` (a user name, or a client address for
    /// identities that stand for many people).
    pub fn hold(&self, owner: &str) -> BudgetHold {
        BudgetHold {
            budget: Some(self.clone()),
            owner: Arc::from(owner),
            permit: None,
            units: 0,
        }
    }

    fn owners(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, usize>> {
        self.owners.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Gives `units` of `owner`'s share back.
    fn release_share(&self, owner: &Arc<str>, units: usize) {
        let mut owners = self.owners();
        if let Some(held) = owners.get_mut(owner) {
            *held = held.saturating_sub(units);
            if *held == 0 {
                owners.remove(owner);
            }
        }
    }
}

impl BudgetHold {
    /// A hold on no budget at all, for callers that buffer outside the gateway (tests, tools).
    pub fn unlimited() -> Self {
        Self {
            budget: None,
            owner: Arc::from(""),
            permit: None,
            units: 0,
        }
    }

    /// Grows the hold to cover `bytes` in total, waiting at most the budget's wait.
    pub async fn cover(&mut self, bytes: usize) -> Result<(), BudgetExhausted> {
        let Some(budget) = &self.budget else {
            return Ok(());
        };
        let wanted = bytes.div_ceil(UNIT);
        if wanted <= self.units {
            return Ok(());
        }
        let extra = wanted - self.units;
        let exhausted = || {
            InspectBudgetExhausted.emit(&budget.metrics);
            Err(BudgetExhausted)
        };
        let more = u32::try_from(extra).map_err(|_| BudgetExhausted)?;
        {
            // The owner's share is taken first and at once: waiting for one's own bodies to
            // finish could never be fairer than refusing.
            let mut owners = budget.owners();
            let held = owners.entry(self.owner.clone()).or_insert(0);
            if *held + extra > budget.per_owner {
                if *held == 0 {
                    owners.remove(&self.owner);
                }
                return exhausted();
            }
            *held += extra;
        }
        let acquire = budget.units.clone().acquire_many_owned(more);
        let permit = match tokio::time::timeout(budget.wait, acquire).await {
            Ok(Ok(permit)) => permit,
            // Closed never happens (nobody closes the semaphore); a timeout is the real case.
            Ok(Err(_)) | Err(_) => {
                budget.release_share(&self.owner, extra);
                return exhausted();
            }
        };
        budget
            .metrics
            .inspect_buffered_bytes
            .add(i64::from(more) * UNIT as i64);
        self.units = wanted;
        match &mut self.permit {
            Some(held) => held.merge(permit),
            None => self.permit = Some(permit),
        }
        Ok(())
    }
}

impl Drop for BudgetHold {
    fn drop(&mut self) {
        if let Some(budget) = &self.budget {
            budget.release_share(&self.owner, self.units);
            budget
                .metrics
                .inspect_buffered_bytes
                .sub((self.units * UNIT) as i64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_full_budget_refuses_after_the_wait_and_frees_on_drop() {
        let budget =
            InspectBudget::new(10 * UNIT, 10 * UNIT, Duration::from_secs(2), Arc::default());
        let mut first = budget.hold("alice");
        first.cover(6 * UNIT).await.expect("fits");
        first.cover(8 * UNIT).await.expect("grows");
        let mut second = budget.hold("bob");
        assert_eq!(second.cover(3 * UNIT).await, Err(BudgetExhausted));
        assert_eq!(budget.metrics.inspect_budget_exhausted.get(), 1);
        drop(first);
        second.cover(10 * UNIT).await.expect("freed by the drop");
        assert_eq!(
            budget.metrics.inspect_buffered_bytes.get(),
            10 * UNIT as u64
        );
    }

    #[tokio::test(start_paused = true)]
    async fn one_owner_cannot_take_more_than_its_share() {
        let budget = InspectBudget::new(
            100 * UNIT,
            30 * UNIT,
            Duration::from_secs(2),
            Arc::default(),
        );
        let mut holds: Vec<BudgetHold> = (0..3).map(|_| budget.hold("mallory")).collect();
        for hold in &mut holds {
            hold.cover(10 * UNIT).await.expect("within the share");
        }
        let mut fourth = budget.hold("mallory");
        assert_eq!(
            fourth.cover(UNIT).await,
            Err(BudgetExhausted),
            "share used up"
        );
        let mut alice = budget.hold("alice");
        alice.cover(30 * UNIT).await.expect("others keep theirs");
        holds.pop();
        fourth
            .cover(10 * UNIT)
            .await
            .expect("a finished body frees its share");
        drop((holds, fourth, alice));
        assert!(
            budget.owners().is_empty(),
            "owners leave when they hold nothing"
        );
    }
}
