//! One span as it will be exported, and the allow list that turns a span's tracing fields into
//! OTLP attributes. A field not named here is never exported, so a field added to a span for
//! the logs cannot leak to the collector.

use std::fmt;

use tracing::field::{Field, Visit};

/// Which of the proxy's spans this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpanKind {
    /// One HTTP transaction (`proxy::pipeline`).
    Request,
    /// One CONNECT tunnel (the proxy port's or an agent's).
    Tunnel,
}

/// An attribute value (the subset of OTLP's `AnyValue` the spans need).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<String>),
}

/// A span being recorded, then queued for export when it closes.
#[derive(Debug, Clone)]
pub(crate) struct SpanRecord {
    pub kind: SpanKind,
    pub trace_id: u128,
    pub span_id: u64,
    pub parent: Option<u64>,
    pub start_unix_nanos: u64,
    pub end_unix_nanos: u64,
    pub attributes: Vec<(&'static str, Value)>,
}

impl SpanRecord {
    /// The span's name: the HTTP method for a request (semantic conventions: `{method}` when no
    /// route is known), `CONNECT` for a tunnel.
    pub fn name(&self) -> &str {
        match self.kind {
            SpanKind::Tunnel => "CONNECT",
            SpanKind::Request => match self.get("http.request.method") {
                Some(Value::Str(method)) => method,
                _ => "HTTP",
            },
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.attributes
            .iter()
            .find_map(|(k, v)| (*k == key).then_some(v))
    }

    /// The error the span ended with (`error.type`), if any: its status is then ERROR.
    pub fn error(&self) -> Option<&str> {
        match self.get("error.type") {
            Some(Value::Str(kind)) if !kind.is_empty() => Some(kind),
            _ => None,
        }
    }

    fn set(&mut self, key: &'static str, value: Value) {
        match self.attributes.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.attributes.push((key, value)),
        }
    }
}

/// How an exported field is turned into an attribute.
#[derive(Clone, Copy)]
enum Shape {
    Text,
    Int,
    Bool,
    /// Comma-separated names, exported as a list.
    List,
    /// A socket address whose IP is exported.
    Ip,
}

/// (span kind, field name) → (attribute key, shape, personal data). Personal data is exported
/// only with `export_user`.
const EXPORTED: &[(SpanKind, &str, &str, Shape, bool)] = &[
    (
        SpanKind::Request,
        "id",
        "warden.request_id",
        Shape::Text,
        false,
    ),
    (
        SpanKind::Request,
        "http.request.method",
        "http.request.method",
        Shape::Text,
        false,
    ),
    (
        SpanKind::Request,
        "url.scheme",
        "url.scheme",
        Shape::Text,
        false,
    ),
    (
        SpanKind::Request,
        "server.address",
        "server.address",
        Shape::Text,
        false,
    ),
    (
        SpanKind::Request,
        "http.response.status_code",
        "http.response.status_code",
        Shape::Int,
        false,
    ),
    (
        SpanKind::Request,
        "warden.action",
        "warden.action",
        Shape::Text,
        false,
    ),
    (
        SpanKind::Request,
        "warden.rule",
        "warden.rule",
        Shape::Text,
        false,
    ),
    (
        SpanKind::Request,
        "warden.app",
        "warden.app",
        Shape::Text,
        false,
    ),
    (
        SpanKind::Request,
        "warden.refused",
        "warden.refused",
        Shape::Bool,
        false,
    ),
    (
        SpanKind::Request,
        "warden.dlp.detectors",
        "warden.dlp.detectors",
        Shape::List,
        false,
    ),
    (
        SpanKind::Request,
        "error.type",
        "error.type",
        Shape::Text,
        false,
    ),
    (
        SpanKind::Request,
        "warden.user",
        "warden.user",
        Shape::Text,
        true,
    ),
    (
        SpanKind::Tunnel,
        "target",
        "server.address",
        Shape::Text,
        false,
    ),
    (SpanKind::Tunnel, "port", "server.port", Shape::Int, false),
    (
        SpanKind::Tunnel,
        "client",
        "client.address",
        Shape::Ip,
        true,
    ),
    (
        SpanKind::Tunnel,
        "warden.action",
        "warden.action",
        Shape::Text,
        false,
    ),
    (
        SpanKind::Tunnel,
        "warden.rule",
        "warden.rule",
        Shape::Text,
        false,
    ),
    (
        SpanKind::Tunnel,
        "warden.app",
        "warden.app",
        Shape::Text,
        false,
    ),
    (
        SpanKind::Tunnel,
        "warden.refused",
        "warden.refused",
        Shape::Bool,
        false,
    ),
    (
        SpanKind::Tunnel,
        "error.type",
        "error.type",
        Shape::Text,
        false,
    ),
];

/// Records a span's fields into its [`SpanRecord`].
pub(crate) struct Fields<'a> {
    pub record: &'a mut SpanRecord,
    pub export_user: bool,
}

impl Fields<'_> {
    fn field(&self, field: &Field) -> Option<(&'static str, Shape)> {
        let kind = self.record.kind;
        EXPORTED
            .iter()
            .find(|(k, name, _, _, personal)| {
                *k == kind && *name == field.name() && (!personal || self.export_user)
            })
            .map(|(_, _, key, shape, _)| (*key, *shape))
    }

    fn text(&mut self, field: &Field, text: &str) {
        let Some((key, shape)) = self.field(field) else {
            return;
        };
        let value = match shape {
            Shape::Text => Value::Str(text.to_string()),
            Shape::Int => match text.parse() {
                Ok(n) => Value::Int(n),
                Err(_) => return,
            },
            Shape::Bool => Value::Bool(text == "true"),
            Shape::List => Value::List(
                text.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            Shape::Ip => match text.parse::<std::net::SocketAddr>() {
                Ok(addr) => Value::Str(addr.ip().to_string()),
                Err(_) => Value::Str(text.to_string()),
            },
        };
        self.record.set(key, value);
    }
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if let Some((key, Shape::Int)) = self.field(field) {
            self.record.set(key, Value::Int(value));
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if let Some((key, Shape::Int)) = self.field(field) {
            self.record
                .set(key, Value::Int(i64::try_from(value).unwrap_or(i64::MAX)));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if let Some((key, Shape::Bool)) = self.field(field) {
            self.record.set(key, Value::Bool(value));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // Only formatted when the field is exported (`%value` fields arrive here).
        if self.field(field).is_some() {
            self.text(field, &format!("{value:?}"));
        }
    }
}
