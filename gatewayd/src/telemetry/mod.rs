//! What the gateway tells operators: structured logs (text or JSON) and Prometheus metrics.

mod logging;
mod metrics;

pub use logging::init_logging;
pub use metrics::{render_events, Metrics, TunnelKind};
