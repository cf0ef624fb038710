//! The gateway's metrics, declared once: each field's type says its kind (counter, gauge,
//! labelled family), its doc line is its `# HELP`, and `render_into` is generated from the
//! same declaration, so a metric cannot be counted and forgotten on `/metrics`.
//!
//! Owned by the gateway (no process-wide registry). Code outside `telemetry` should not bump
//! these directly: it emits a typed event (`telemetry::events`), which writes the log line and
//! updates the metric together.

use super::exposition::{Exposition, Kind};
use super::metric::{Counter, CounterFamily, Gauge, GaugeFamily, Label};

crate::labels! {
    /// Which listener a connection came in on.
    pub enum Listener: "listener" { Proxy => "proxy", Admin => "admin" }
}

crate::labels! {
    /// The limit that refused a connection (or a request), named by its configuration key.
    pub enum Limit: "limit" {
        Port => "limits.max_connections",
        Source => "limits.max_connections_per_source",
        User => "limits.max_connections_per_user",
        Admin => "admin.max_connections",
        AdminSource => "admin.max_connections_per_source",
    }
}

crate::labels! {
    /// Why a client was refused the proxy.
    pub enum Denial: "reason" { AuthRequired => "auth_required", Source => "source_not_allowed" }
}

crate::labels! {
    /// How a CONNECT tunnel was handled.
    pub enum TunnelKind: "outcome" {
        Intercepted => "intercepted",
        Bypassed => "bypassed",
        Blocked => "blocked",
        Refused => "refused",
    }
}

crate::labels! {
    /// Which way body bytes went.
    pub enum Direction: "direction" { Up => "up", Down => "down" }
}

crate::labels! {
    /// A step of coaching: a warning shown, a warning continued past (page or API), an access
    /// request filed.
    pub enum CoachingStep: "step" {
        WarningShown => "warning_shown",
        Continued => "continued",
        AccessRequested => "access_requested",
    }
}

crate::labels! {
    /// What became of a configuration reload.
    pub enum ReloadOutcome: "outcome" { Applied => "applied", Refused => "refused" }
}

/// Writes one metric in the exposition format; the metric's type decides its `# TYPE`.
trait Render {
    fn render(&self, out: &mut Exposition, name: &str, help: &str);
}

impl Render for Counter {
    fn render(&self, out: &mut Exposition, name: &str, help: &str) {
        out.single(name, Kind::Counter, help, self.get());
    }
}

impl Render for Gauge {
    fn render(&self, out: &mut Exposition, name: &str, help: &str) {
        out.single(name, Kind::Gauge, help, self.get());
    }
}

impl<L: Label> Render for CounterFamily<L> {
    fn render(&self, out: &mut Exposition, name: &str, help: &str) {
        out.labelled(name, Kind::Counter, help, L::KEY, self.samples());
    }
}

impl<L: Label> Render for GaugeFamily<L> {
    fn render(&self, out: &mut Exposition, name: &str, help: &str) {
        out.labelled(name, Kind::Gauge, help, L::KEY, self.samples());
    }
}

/// Declares the registry: `/// help` then `field: Type = "exported_name"`.
macro_rules! registry {
    ($(#[doc = $help:literal] $field:ident : $ty:ty = $name:literal,)+) => {
        /// Every metric the proxy keeps (the admin plane renders it with the events path's
        /// and the auth guard's counters).
        #[derive(Default)]
        pub struct Metrics {
            $(#[doc = $help] pub $field: $ty,)+
        }

        impl Metrics {
            /// Appends every metric, in declaration order.
            pub fn render_into(&self, out: &mut Exposition) {
                $(Render::render(&self.$field, out, $name, $help.trim());)+
            }

            /// Every exported name, for tests and docs.
            pub const NAMES: &'static [&'static str] = &[$($name),+];
        }
    };
}

registry! {
    /// Client connections accepted, by listener.
    connections_accepted: CounterFamily<Listener> = "warden_connections_accepted_total",
    /// Client connections open now, by listener.
    connections_open: GaugeFamily<Listener> = "warden_connections_open",
    /// Connections (and, for the per-user limit, tunnels and requests) refused by a limit.
    connections_rejected: CounterFamily<Limit> = "warden_connections_rejected_total",
    /// Accept errors (file descriptors exhausted and the like), by listener.
    accept_errors: CounterFamily<Listener> = "warden_accept_errors_total",
    /// Clients refused for lacking proxy auth or an allowed source address.
    access_denied: CounterFamily<Denial> = "warden_access_denied_total",
    /// CONNECT tunnels, by how they were handled (blocked: answered with a block page; refused: malformed or non-TLS traffic, handshake timeouts, no certificate).
    tunnels: CounterFamily<TunnelKind> = "warden_tunnels_total",
    /// Client TLS handshakes with the minted certificate that failed.
    tls_handshake_failures: Counter = "warden_tls_handshake_failures_total",
    /// Leaf certificates minted.
    leaves_minted: Counter = "warden_leaves_minted_total",
    /// HTTP requests handled by the pipeline.
    requests: Counter = "warden_requests_total",
    /// HTTP requests answered by the gateway instead of the upstream.
    requests_blocked: Counter = "warden_requests_blocked_total",
    /// Requests that failed because the upstream could not be used.
    upstream_errors: Counter = "warden_upstream_errors_total",
    /// Upstream connections refused for an invalid certificate.
    upstream_certificate_invalid: Counter = "warden_upstream_certificate_invalid_total",
    /// Requests the upstream did not process (GOAWAY, REFUSED_STREAM, closed connection) sent again on a fresh connection.
    upstream_retries: Counter = "warden_upstream_retries_total",
    /// Connections the egress policy refused (loopback, private, ports ...).
    egress_refused: Counter = "warden_egress_refused_total",
    /// Body bytes: up, forwarded upstream; down, returned to clients.
    bytes: CounterFamily<Direction> = "warden_bytes_total",
    /// Configuration reloads: applied, or refused because the new configuration was invalid.
    config_reloads: CounterFamily<ReloadOutcome> = "warden_config_reloads_total",
    /// TLS handshakes completed on the agent port (one per agent connection).
    agent_handshakes: Counter = "warden_agent_handshakes_total",
    /// CONNECT streams opened by device agents over their agent-port connections.
    agent_streams: Counter = "warden_agent_streams_total",
    /// Agent-port connections, enrollments or streams refused: bad or revoked certificates, garbage, limits.
    agent_refused: Counter = "warden_agent_refused_total",
    /// Devices enrolled through the agent port.
    devices_enrolled: Counter = "warden_devices_enrolled_total",
    /// Bodies treated as unscannable because inspect.max_buffered_bytes was in use.
    inspect_budget_exhausted: Counter = "warden_inspect_budget_exhausted_total",
    /// Bytes of the inspection budget held by bodies being buffered now.
    inspect_buffered_bytes: Gauge = "warden_inspect_buffered_bytes",
    /// Coaching, by step: warnings shown, warnings continued past (page or API), access requests filed.
    coaching: CounterFamily<CoachingStep> = "warden_coaching_total",
}
