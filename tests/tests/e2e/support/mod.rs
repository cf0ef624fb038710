//! Shared harness: the gateway process, the test origin, and real clients.

pub mod agent;
pub mod curl;
pub mod gateway;
pub mod origin;
pub mod raw_h2;
pub mod report_data;
pub mod tools;
pub mod webdriver;

pub use curl::{clickhouse_sql, curl};
pub use gateway::{GatewayOptions, GatewayProcess};
pub use origin::Origin;
