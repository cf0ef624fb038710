//! Approval statuses of AI apps, as the security team sets them: kept in the state directory
//! (`app-statuses.json`, written atomically) with every change appended to
//! `app-status-changes.jsonl` (who, when, old → new). Changes take effect on the next request:
//! the pipeline reads the current book, not the connection's snapshot.

pub mod decisions;
mod discovered;
mod store;

pub use decisions::{decide, DecideError, Decided, DecisionRequest};
pub use discovered::{DiscoveredApp, DiscoveredApps};
pub use store::{StatusStore, StatusStoreError};
