//! The daemon's side of the agent port (crate `devices`): [`AgentHost`] implements
//! `devices::agent_port::Host` over the gateway, so a device's CONNECT stream runs through
//! the same tunnel handling as the proxy port's CONNECT — the egress check at CONNECT time,
//! then interception, policy, DLP, events — with the identity taken from the device, never
//! from headers. It never decides anything about devices; the port has checked the registry.

use std::net::SocketAddr;
use std::sync::Arc;

use devices::agent_port::{Host, Opened, PortEvent, Settings, TunnelDevice};
use http::Uri;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use proxy::gateway::Gateway;
use proxy::identity::{DeviceIdentity, Identity};
use proxy::intercept::{handle_tunnel, refuse_at_connect, Tunnel};
use proxy::listen::{bad_target, parse_target};
use proxy::telemetry::events::{AgentPortCounted, InternalEvent};

/// The gateway, as the agent port sees it.
pub struct AgentHost(pub Arc<Gateway>);

impl Host for AgentHost {
    fn settings(&self) -> Settings {
        let snapshot = self.0.snapshot();
        let config = &snapshot.config;
        Settings {
            handshake: config.timeouts.handshake.0,
            max_streams_per_connection: config.tunnel.max_streams_per_connection,
            max_header_bytes: config.limits.max_header_bytes,
            device_cert_validity: config.tunnel.device_cert_validity.0,
            signed_posture_max_age: config.tunnel.signed_posture_max_age.0,
        }
    }

    fn tasks(&self) -> &TaskTracker {
        &self.0.tasks
    }

    fn shutdown(&self) -> &CancellationToken {
        &self.0.shutdown
    }

    fn count(&self, event: PortEvent) {
        AgentPortCounted(event).emit(&self.0.metrics);
    }

    fn open_tunnel(&self, client: SocketAddr, device: TunnelDevice, target: &Uri) -> Opened {
        let Some((host, port)) = parse_target(target) else {
            return Opened::Refused(bad_target());
        };
        let identity = Identity {
            user: device.user,
            groups: device.groups,
            method: "device",
            device: Some(Arc::new(DeviceIdentity::new(
                device.id,
                device.posture,
                device.signed,
            ))),
        };
        let gateway = &self.0;
        let tunnel = Tunnel {
            gateway: gateway.clone(),
            snapshot: gateway.snapshot(),
            client,
            identity,
            host,
            port,
        };
        if let Some(answer) = refuse_at_connect(&tunnel, true) {
            return Opened::Refused(answer);
        }
        Opened::Start(Box::new(move |stream| {
            let span = tracing::debug_span!(
                "tunnel",
                client = %tunnel.client,
                target = %tunnel.host,
                port = tunnel.port,
                "warden.action" = tracing::field::Empty,
                "warden.rule" = tracing::field::Empty,
                "warden.app" = tracing::field::Empty,
                "warden.refused" = tracing::field::Empty,
                "error.type" = tracing::field::Empty,
            );
            Box::pin(handle_tunnel(tunnel, stream).instrument(span))
        }))
    }
}
