//! Optional OpenTelemetry trace export: the request and tunnel spans the proxy already opens
//! become OTLP spans (W3C trace and span ids, start and end times, HTTP semantic-convention
//! attributes, an error status for refused and failed transactions), sent in batches as
//! OTLP/HTTP JSON to a collector.
//!
//! ```text
//! proxy span closes ─► OtlpLayer (own filter: only `request`/`tunnel`) ─► bounded queue ─► exporter task ─► POST /v1/traces
//!                                       queue full: drop + count                          failure: drop + count + rate-limited warning
//! ```
//!
//! What this crate must never do: slow or stop traffic (the layer only ever `try_send`s; the
//! exporter is one task with one request in flight and a timeout), export a field it was not
//! told to (attributes are an allow list: never prompts, findings, tokens or header values;
//! the user only when `export_user` says so), or log a configured header value.

mod client;
mod encode;
mod events;
mod export;
mod ids;
mod layer;
mod record;
#[cfg(test)]
mod tests;

pub use events::{DropReason, ExportStats};
pub use export::{start, ExportHandle, StartError};
pub use layer::{OtlpLayer, SpanFilter};
