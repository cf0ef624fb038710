//! Integration tests of the `extract` crate, one binary: content decoding, office documents,
//! archives and their bombs, PDF, text kinds, and a deterministic fuzz loop. Every fixture is
//! built in `fixtures`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod archives;
mod decode;
mod fixtures;
mod fuzz;
mod office;
mod pdf;
mod text;
