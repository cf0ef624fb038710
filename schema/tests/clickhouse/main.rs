//! Integration tests against a real ClickHouse (Debian's 18.16 package) started per test by
//! `schema::testkit`. No mocks: every test talks to a server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ai_views;
mod migrations;
mod retention;
mod rows;
mod support;
mod testkit;
mod views;
