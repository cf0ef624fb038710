//! `gatewayd`: Warden's secure web gateway daemon. The command line, and the wiring of the
//! crates it runs: the proxy (`proxy`), the admin plane (`admin`), the agent port
//! (`devices`), the events path (`events`) and the reports (`report`). See ARCHITECTURE.md
//! for the map.

pub mod admin_host;
mod admin_keys;
pub mod agent_host;
pub mod aigw_host;
pub mod budgets_setup;
pub mod cli;
pub mod cpu;
pub mod daemon;
pub mod events_setup;
pub mod key_checks;
pub mod key_inventory;
pub mod key_ops;
pub mod local_model_setup;
pub mod logging;
pub mod siem_audit;
pub mod siem_setup;
