//! What the proxy tells operators in numbers: typed internal events (`events`) that write
//! the log line and update the metric together, the metrics they update (`metrics`), and
//! the Prometheus text of `/metrics` (`scrape`). The daemon sets up the logs.

pub mod events;
mod exposition;
mod metric;
mod metrics;
mod scrape;
#[cfg(test)]
mod tests;

pub use events::InternalEvent;
pub use exposition::{Exposition, Kind};
pub use metric::{Counter, CounterFamily, Gauge, GaugeFamily, Label};
pub use metrics::{
    CoachingStep, Denial, Direction, Limit, Listener, Metrics, ReloadOutcome, TunnelKind,
};
pub use scrape::{render, render_events, render_otlp};
