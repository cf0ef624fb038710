//! Byte-stream adapters shared by the listeners: replaying peeked bytes, idle timeouts and
//! byte counts.

mod counted;
mod idle;
mod prefixed;

pub use counted::{ByteCounts, Counted};
pub use idle::IdleTimeout;
pub use prefixed::Prefixed;
