//! The gateway-wide budget of bytes that request bodies may hold while they are buffered for
//! inspection (`inspect.max_buffered_bytes`), so that many clients sending large bodies at
//! once cannot grow memory without bound.
//!
//! A body takes budget before its bytes are kept (its declared length up front, then chunk by
//! chunk beyond it) and gives it back when its [`BudgetHold`] drops — after the body has been
//! forwarded or refused. It must never wait longer than `inspect.budget_wait` for budget:
//! a body that cannot get it is unscannable, and the policy's `on_unscannable` answers.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::telemetry::Metrics;

/// Budget is counted in units of this many bytes, so the semaphore's `u32` acquisitions
/// cover bodies and budgets far beyond 4 GiB.
const UNIT: usize = 1024;

/// The shared budget.
#[derive(Clone)]
pub struct InspectBudget {
    units: Arc<Semaphore>,
    wait: Duration,
    metrics: Arc<Metrics>,
}

/// The budget one body holds; released on drop.
pub struct BudgetHold {
    budget: Option<InspectBudget>,
    permit: Option<OwnedSemaphorePermit>,
    units: usize,
}

/// The budget could not be had within the wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetExhausted;

impl InspectBudget {
    pub fn new(max_bytes: usize, wait: Duration, metrics: Arc<Metrics>) -> Self {
        let units = max_bytes.div_ceil(UNIT).clamp(1, Semaphore::MAX_PERMITS);
        Self {
            units: Arc::new(Semaphore::new(units)),
            wait,
            metrics,
        }
    }

    /// An empty hold on this budget.
    pub fn hold(&self) -> BudgetHold {
        BudgetHold {
            budget: Some(self.clone()),
            permit: None,
            units: 0,
        }
    }
}

impl BudgetHold {
    /// A hold on no budget at all, for callers that buffer outside the gateway (tests, tools).
    pub fn unlimited() -> Self {
        Self {
            budget: None,
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
        let more = u32::try_from(wanted - self.units).map_err(|_| BudgetExhausted)?;
        let acquire = budget.units.clone().acquire_many_owned(more);
        let permit = match tokio::time::timeout(budget.wait, acquire).await {
            Ok(Ok(permit)) => permit,
            // Closed never happens (nobody closes the semaphore); a timeout is the real case.
            Ok(Err(_)) | Err(_) => {
                budget
                    .metrics
                    .inspect_budget_exhausted
                    .fetch_add(1, Relaxed);
                return Err(BudgetExhausted);
            }
        };
        budget
            .metrics
            .inspect_buffered_bytes
            .fetch_add(i64::from(more) * UNIT as i64, Relaxed);
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
            budget
                .metrics
                .inspect_buffered_bytes
                .fetch_sub((self.units * UNIT) as i64, Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_full_budget_refuses_after_the_wait_and_frees_on_drop() {
        let budget = InspectBudget::new(10 * UNIT, Duration::from_secs(2), Arc::default());
        let mut first = budget.hold();
        first.cover(6 * UNIT).await.expect("fits");
        first.cover(8 * UNIT).await.expect("grows");
        let mut second = budget.hold();
        assert_eq!(second.cover(3 * UNIT).await, Err(BudgetExhausted));
        assert_eq!(budget.metrics.inspect_budget_exhausted.load(Relaxed), 1);
        drop(first);
        second.cover(10 * UNIT).await.expect("freed by the drop");
        assert_eq!(
            budget.metrics.inspect_buffered_bytes.load(Relaxed),
            10 * UNIT as i64
        );
    }
}
