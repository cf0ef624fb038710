//! Byte-stream adapters shared by the listeners: replaying peeked bytes and idle timeouts.

mod idle;
mod prefixed;

pub use idle::IdleTimeout;
pub use prefixed::Prefixed;
