//! Why an upstream could not be used, classified for the block page and the metrics: whose
//! fault it was and what the user can do about it.

use std::sync::Arc;
use std::time::Duration;

use super::egress::EgressRefusal;

/// A failure while establishing an upstream connection. Cloneable (the I/O error is shared):
/// hyper-util's client error only lends it out, and the pipeline needs its own copy.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectError {
    #[error("could not resolve {host}: {reason}")]
    Resolve { host: String, reason: String },
    #[error("connecting to {target} timed out after {after:?}")]
    Timeout { target: String, after: Duration },
    #[error("could not connect to {target}: {source}")]
    Tcp {
        target: String,
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The origin's certificate did not verify: never passed through silently.
    #[error("the certificate of {host} is not valid: {reason}")]
    InvalidCertificate { host: String, reason: String },
    #[error("TLS handshake with {host} failed: {reason}")]
    Tls { host: String, reason: String },
    #[error("invalid upstream address {0:?}")]
    BadTarget(String),
    /// The egress policy refused every address of the target.
    #[error("the gateway does not connect to {target}: {}", refusal.explain())]
    Egress {
        target: String,
        refusal: EgressRefusal,
    },
}

/// Why the upstream side cannot be built from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamConfigError {
    #[error("upstream.connect_to key {0:?} must be \"host:port\"")]
    ConnectToKey(String),
    #[error("upstream.connect_to value {0:?} must be \"addr:port\"")]
    ConnectToValue(String),
    /// An `upstream.extra_roots` file that is unreadable or holds no usable certificate.
    #[error("upstream.extra_roots {path}: {reason}")]
    ExtraRoots { path: String, reason: String },
    #[error(transparent)]
    EgressHosts(#[from] policies::host_list::HostListError),
}

/// A failure to get a response from upstream.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("the upstream did not start its response within {0:?}")]
    ResponseTimeout(Duration),
    #[error("the upstream connection failed: {0}")]
    Protocol(String),
}

/// An error and its sources, `outer: inner: innermost`.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(current) = source {
        text.push_str(": ");
        text.push_str(&current.to_string());
        source = current.source();
    }
    text
}

impl UpstreamError {
    /// Finds our connect error inside hyper-util's client error, if that is what failed.
    pub(crate) fn from_client(error: hyper_util::client::legacy::Error) -> Self {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(current) = source {
            if let Some(connect) = current.downcast_ref::<ConnectError>() {
                return Self::Connect(connect.clone());
            }
            source = current.source();
        }
        Self::Protocol(error_chain(&error))
    }

    /// The short machine-readable reason shown in `X-Warden-Action` details and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Connect(ConnectError::InvalidCertificate { .. }) => {
                "upstream_certificate_invalid"
            }
            Self::Connect(ConnectError::Egress { refusal, .. }) => refusal.rule(),
            Self::Connect(ConnectError::Resolve { .. }) => "upstream_unresolvable",
            Self::Connect(ConnectError::Timeout { .. }) | Self::ResponseTimeout(_) => {
                "upstream_timeout"
            }
            Self::Connect(_) => "upstream_unreachable",
            Self::Protocol(_) => "upstream_protocol_error",
        }
    }
}
