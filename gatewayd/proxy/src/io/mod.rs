//! Byte-stream adapters shared by the listeners: replaying peeked bytes, idle timeouts (in
//! bytes and in requests), byte counts, and a body that holds a guard until it ends.

mod activity;
mod counted;
mod idle;
mod prefixed;

pub use activity::{Activity, HoldBody};
pub use counted::{ByteCounts, Counted};
pub use idle::IdleTimeout;
pub use prefixed::Prefixed;
