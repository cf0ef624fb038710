//! Integration tests of the spool on real files in temporary directories: one test binary,
//! shared helpers in `support`, one module per concern.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod capacity;
mod corruption;
mod durability;
mod property;
mod roundtrip;
mod support;
