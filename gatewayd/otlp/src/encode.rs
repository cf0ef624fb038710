//! A batch of spans as an OTLP `ExportTraceServiceRequest` in the OTLP/HTTP JSON encoding:
//! protobuf's JSON mapping with lowerCamelCase keys, enums as integers, 64-bit integers as
//! strings, and trace and span ids as lowercase hex (where OTLP deviates from protobuf's
//! base64 for bytes).
//!
//! Written here on serde rather than with the opentelemetry crates: the message is small and
//! fixed, and this keeps protobuf, gRPC and an SDK out of the build.

use serde::Serialize;

use crate::ids::{span_hex, trace_hex};
use crate::record::{SpanRecord, Value};

/// `SPAN_KIND_SERVER`: the gateway serves the client's request (and tunnel).
const KIND_SERVER: u8 = 2;
/// `STATUS_CODE_ERROR`.
const STATUS_ERROR: u8 = 2;

/// The resource every span of this process shares.
pub(crate) struct Resource {
    pub service_name: String,
}

/// The request body for one batch.
pub(crate) fn encode(
    resource: &Resource,
    spans: &[SpanRecord],
) -> Result<Vec<u8>, serde_json::Error> {
    let request = ExportRequest {
        resource_spans: [ResourceSpans {
            resource: ResourceJson {
                attributes: vec![
                    KeyValue::text("service.name", &resource.service_name),
                    KeyValue::text("service.version", env!("CARGO_PKG_VERSION")),
                ],
            },
            scope_spans: [ScopeSpans {
                scope: Scope {
                    name: "warden.gatewayd",
                    version: env!("CARGO_PKG_VERSION"),
                },
                spans: spans.iter().map(SpanJson::from).collect(),
            }],
        }],
    };
    serde_json::to_vec(&request)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportRequest<'a> {
    resource_spans: [ResourceSpans<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSpans<'a> {
    resource: ResourceJson<'a>,
    scope_spans: [ScopeSpans<'a>; 1],
}

#[derive(Serialize)]
struct ResourceJson<'a> {
    attributes: Vec<KeyValue<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScopeSpans<'a> {
    scope: Scope,
    spans: Vec<SpanJson<'a>>,
}

#[derive(Serialize)]
struct Scope {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpanJson<'a> {
    trace_id: String,
    span_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_span_id: Option<String>,
    name: &'a str,
    kind: u8,
    start_time_unix_nano: String,
    end_time_unix_nano: String,
    attributes: Vec<KeyValue<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<Status<'a>>,
}

impl<'a> From<&'a SpanRecord> for SpanJson<'a> {
    fn from(span: &'a SpanRecord) -> Self {
        Self {
            trace_id: trace_hex(span.trace_id),
            span_id: span_hex(span.span_id),
            parent_span_id: span.parent.map(span_hex),
            name: span.name(),
            kind: KIND_SERVER,
            start_time_unix_nano: span.start_unix_nanos.to_string(),
            end_time_unix_nano: span.end_unix_nanos.to_string(),
            attributes: span
                .attributes
                .iter()
                .map(|(key, value)| KeyValue {
                    key,
                    value: AnyValue::from(value),
                })
                .collect(),
            // Unset unless the transaction failed or was refused (semantic conventions leave
            // success unset).
            status: span.error().map(|message| Status {
                code: STATUS_ERROR,
                message,
            }),
        }
    }
}

#[derive(Serialize)]
struct Status<'a> {
    code: u8,
    message: &'a str,
}

#[derive(Serialize)]
struct KeyValue<'a> {
    key: &'a str,
    value: AnyValue<'a>,
}

impl<'a> KeyValue<'a> {
    fn text(key: &'a str, value: &'a str) -> Self {
        Self {
            key,
            value: AnyValue::Text(value),
        }
    }
}

/// OTLP's `AnyValue`: one key naming the kind (`stringValue`, `intValue`, ...).
#[derive(Serialize)]
enum AnyValue<'a> {
    #[serde(rename = "stringValue")]
    Text(&'a str),
    /// int64: a string in protobuf's JSON mapping.
    #[serde(rename = "intValue")]
    Int(String),
    #[serde(rename = "boolValue")]
    Bool(bool),
    #[serde(rename = "arrayValue")]
    Array(ArrayValue<'a>),
}

#[derive(Serialize)]
struct ArrayValue<'a> {
    values: Vec<AnyValue<'a>>,
}

impl<'a> From<&'a Value> for AnyValue<'a> {
    fn from(value: &'a Value) -> Self {
        match value {
            Value::Str(s) => Self::Text(s),
            Value::Int(n) => Self::Int(n.to_string()),
            Value::Bool(b) => Self::Bool(*b),
            Value::List(items) => Self::Array(ArrayValue {
                values: items.iter().map(|s| Self::Text(s)).collect(),
            }),
        }
    }
}
