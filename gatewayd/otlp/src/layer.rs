//! The tracing layer: records the proxy's `request` and `tunnel` spans and queues each one
//! for export when it closes. It has its own per-layer filter ([`SpanFilter`]), so the log
//! level does not decide what is exported, and nothing but those spans reaches it.
//!
//! What it must never do: wait. A full queue drops the span and counts it.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Metadata, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Filter, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::events::{ExportStats, QueueFull};
use crate::ids;
use crate::record::{Fields, SpanKind, SpanRecord};

/// Turns closed spans into span records on the export queue.
pub struct OtlpLayer {
    pub(crate) queue: mpsc::Sender<SpanRecord>,
    pub(crate) stats: Arc<ExportStats>,
    pub(crate) sample_ratio: f64,
    pub(crate) export_user: bool,
}

/// The trace a span belongs to, kept on every recorded span (sampled or not) so that its
/// children join the same trace with the same sampling decision.
#[derive(Clone, Copy)]
struct TraceState {
    trace_id: u128,
    span_id: u64,
    sampled: bool,
}

/// Which spans the layer sees: the proxy's `request` and `tunnel` spans, whatever the log
/// level.
pub struct SpanFilter;

impl SpanFilter {
    fn exported(meta: &Metadata<'_>) -> bool {
        meta.is_span()
            && kind(meta).is_some()
            && (meta.target().starts_with("proxy::") || meta.target().starts_with("gatewayd::"))
    }
}

impl<S> Filter<S> for SpanFilter {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        Self::exported(meta)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if Self::exported(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::DEBUG)
    }
}

fn kind(meta: &Metadata<'_>) -> Option<SpanKind> {
    match meta.name() {
        "request" => Some(SpanKind::Request),
        "tunnel" => Some(SpanKind::Tunnel),
        _ => None,
    }
}

fn now_unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl<S> Layer<S> for OtlpLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(kind) = kind(attrs.metadata()) else {
            return;
        };
        let Some(span) = ctx.span(id) else {
            return;
        };
        // The closest parent this layer sees: a request's tunnel, where there is one.
        let parent = span
            .parent()
            .and_then(|p| p.extensions().get::<TraceState>().copied());
        let state = match parent {
            Some(parent) => TraceState {
                trace_id: parent.trace_id,
                span_id: ids::span_id(),
                sampled: parent.sampled,
            },
            None => {
                let trace_id = ids::trace_id();
                TraceState {
                    trace_id,
                    span_id: ids::span_id(),
                    sampled: ids::sampled(trace_id, self.sample_ratio),
                }
            }
        };
        let mut extensions = span.extensions_mut();
        extensions.insert(state);
        if !state.sampled {
            return;
        }
        let mut record = SpanRecord {
            kind,
            trace_id: state.trace_id,
            span_id: state.span_id,
            parent: parent.map(|p| p.span_id),
            start_unix_nanos: now_unix_nanos(),
            end_unix_nanos: 0,
            attributes: Vec::with_capacity(12),
        };
        attrs.record(&mut Fields {
            record: &mut record,
            export_user: self.export_user,
        });
        extensions.insert(record);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(record) = extensions.get_mut::<SpanRecord>() {
            values.record(&mut Fields {
                record,
                export_user: self.export_user,
            });
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let Some(mut record) = span.extensions_mut().remove::<SpanRecord>() else {
            return;
        };
        record.end_unix_nanos = now_unix_nanos().max(record.start_unix_nanos);
        if self.queue.try_send(record).is_err() {
            QueueFull.emit(&self.stats);
        }
    }
}
