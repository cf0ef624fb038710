use std::sync::Arc;

use tokio::sync::mpsc;
use tracing::field::Empty;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

use crate::encode::{encode, Resource};
use crate::events::{DropReason, ExportStats};
use crate::ids;
use crate::layer::{OtlpLayer, SpanFilter};
use crate::record::{SpanKind, SpanRecord, Value};

fn layer(capacity: usize, export_user: bool) -> (OtlpLayer, mpsc::Receiver<SpanRecord>) {
    let (queue, spans) = mpsc::channel(capacity);
    let layer = OtlpLayer {
        queue,
        stats: Arc::new(ExportStats::default()),
        sample_ratio: 1.0,
        export_user,
    };
    (layer, spans)
}

/// Spans as the proxy opens them (the targets are the proxy's and the daemon's).
fn tunnel_and_request() {
    let tunnel = tracing::debug_span!(target: "proxy::listen::connect", "tunnel", client = %"10.1.2.3:5555", target = %"chat.example", port = 443u16);
    let request = tracing::debug_span!(target: "proxy::pipeline", parent: &tunnel, "request",
        id = %"req-1", host = %"chat.example",
        "http.request.method" = %"POST", "url.scheme" = "https",
        "server.address" = Empty, "http.response.status_code" = Empty,
        "warden.action" = Empty, "warden.rule" = Empty, "warden.app" = Empty,
        "warden.user" = Empty, "warden.refused" = Empty, "warden.dlp.detectors" = Empty,
        "error.type" = Empty, prompt = %"never exported");
    request.record("server.address", "chat.example");
    request.record("http.response.status_code", 403u64);
    request.record("warden.action", "block");
    request.record("warden.rule", "dlp.block");
    request.record("warden.user", "alice");
    request.record("warden.refused", true);
    request.record("warden.dlp.detectors", "aws_key,jwt");
    request.record("error.type", "dlp.block");
    drop(request);
    drop(tunnel);
}

#[test]
fn request_and_tunnel_spans_become_one_trace_whatever_the_log_level() {
    let (layer, mut spans) = layer(8, false);
    // The fmt side logs nothing (off); the export layer has its own filter.
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_filter(tracing_subscriber::filter::LevelFilter::OFF),
        )
        .with(layer.with_filter(SpanFilter));
    tracing::subscriber::with_default(subscriber, tunnel_and_request);
    let request = spans.try_recv().unwrap();
    let tunnel = spans.try_recv().unwrap();
    assert_eq!(request.kind, SpanKind::Request);
    assert_eq!(tunnel.kind, SpanKind::Tunnel);
    assert_eq!(request.trace_id, tunnel.trace_id);
    assert_eq!(request.parent, Some(tunnel.span_id));
    assert_eq!(tunnel.parent, None);
    assert_ne!(request.span_id, tunnel.span_id);
    assert!(request.end_unix_nanos >= request.start_unix_nanos);
    assert_eq!(request.name(), "POST");
    assert_eq!(tunnel.name(), "CONNECT");
    assert_eq!(request.error(), Some("dlp.block"));
    assert_eq!(
        request.get("http.response.status_code"),
        Some(&Value::Int(403))
    );
    assert_eq!(
        request.get("warden.dlp.detectors"),
        Some(&Value::List(vec!["aws_key".into(), "jwt".into()]))
    );
    assert_eq!(
        request.get("warden.request_id"),
        Some(&Value::Str("req-1".into()))
    );
    // Personal data stays home unless asked for; unknown fields are never exported.
    assert_eq!(request.get("warden.user"), None);
    assert_eq!(tunnel.get("client.address"), None);
    assert!(request.attributes.iter().all(|(k, _)| *k != "prompt"));
    assert_eq!(tunnel.get("server.port"), Some(&Value::Int(443)));
}

#[test]
fn the_user_is_exported_when_configured() {
    let (layer, mut spans) = layer(8, true);
    let subscriber = tracing_subscriber::registry().with(layer.with_filter(SpanFilter));
    tracing::subscriber::with_default(subscriber, tunnel_and_request);
    let request = spans.try_recv().unwrap();
    let tunnel = spans.try_recv().unwrap();
    assert_eq!(
        request.get("warden.user"),
        Some(&Value::Str("alice".into()))
    );
    assert_eq!(
        tunnel.get("client.address"),
        Some(&Value::Str("10.1.2.3".into()))
    );
}

#[test]
fn a_full_queue_drops_and_counts_instead_of_waiting() {
    let (layer, mut spans) = layer(1, false);
    let stats = layer.stats.clone();
    let subscriber = tracing_subscriber::registry().with(layer.with_filter(SpanFilter));
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..3 {
            tunnel_and_request();
        }
    });
    assert!(spans.try_recv().is_ok());
    assert!(spans.try_recv().is_err());
    assert_eq!(stats.dropped(DropReason::QueueFull), 5);
}

#[test]
fn other_spans_and_events_are_not_seen() {
    let (layer, mut spans) = layer(8, false);
    let subscriber = tracing_subscriber::registry().with(layer.with_filter(SpanFilter));
    tracing::subscriber::with_default(subscriber, || {
        let _ = tracing::info_span!(target: "hyper::client", "request").entered();
        let _ = tracing::debug_span!(target: "proxy::pipeline", "inspect").entered();
        tracing::warn!("an event");
    });
    assert!(spans.try_recv().is_err());
}

#[test]
fn sampling_is_by_trace_id() {
    assert!(ids::sampled(ids::trace_id(), 1.0));
    assert!(!ids::sampled(ids::trace_id(), 0.0));
    let kept = (0..10_000)
        .filter(|_| ids::sampled(ids::trace_id(), 0.25))
        .count();
    assert!((2_000..3_000).contains(&kept), "{kept}");
    assert_eq!(ids::trace_hex(1).len(), 32);
    assert_eq!(ids::span_hex(u64::MAX), "ffffffffffffffff");
}

#[test]
fn the_batch_is_otlp_json() {
    let span = SpanRecord {
        kind: SpanKind::Request,
        trace_id: 0x0af7651916cd43dd8448eb211c80319c,
        span_id: 0xb7ad6b7169203331,
        parent: Some(1),
        start_unix_nanos: 1_700_000_000_000_000_000,
        end_unix_nanos: 1_700_000_000_100_000_000,
        attributes: vec![
            ("http.request.method", Value::Str("GET".into())),
            ("http.response.status_code", Value::Int(502)),
            ("error.type", Value::Str("upstream.connect".into())),
            ("warden.refused", Value::Bool(true)),
        ],
    };
    let body = encode(
        &Resource {
            service_name: "gw".into(),
        },
        &[span],
    )
    .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let resource = &json["resourceSpans"][0];
    assert_eq!(
        resource["resource"]["attributes"][0],
        serde_json::json!({"key": "service.name", "value": {"stringValue": "gw"}})
    );
    let span = &resource["scopeSpans"][0]["spans"][0];
    assert_eq!(span["traceId"], "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(span["spanId"], "b7ad6b7169203331");
    assert_eq!(span["parentSpanId"], "0000000000000001");
    assert_eq!(span["kind"], 2);
    assert_eq!(span["name"], "GET");
    assert_eq!(span["startTimeUnixNano"], "1700000000000000000");
    assert_eq!(
        span["status"],
        serde_json::json!({"code": 2, "message": "upstream.connect"})
    );
    assert_eq!(
        span["attributes"][1],
        serde_json::json!({"key": "http.response.status_code", "value": {"intValue": "502"}})
    );
}

#[test]
fn with_export_off_a_debug_span_is_not_even_created_at_warn() {
    // What the daemon installs with `enabled = false`: no export layer, logs at warn.
    let export: Option<
        tracing_subscriber::filter::Filtered<OtlpLayer, SpanFilter, tracing_subscriber::Registry>,
    > = None;
    let subscriber = tracing_subscriber::registry().with(export).with(
        tracing_subscriber::fmt::layer().with_filter(tracing_subscriber::filter::LevelFilter::WARN),
    );
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::debug_span!(target: "proxy::pipeline", "request", id = 1);
        assert!(span.is_disabled());
    });
}
