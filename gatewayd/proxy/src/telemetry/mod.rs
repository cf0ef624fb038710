//! What the proxy tells operators in numbers: its Prometheus metrics (the daemon sets up the
//! logs).

mod metrics;

pub use metrics::{render_events, Metrics, TunnelKind};
