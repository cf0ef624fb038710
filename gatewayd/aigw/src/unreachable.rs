//! "Provider could not be reached", in words an operator can act on: which host, why (its
//! name does not resolve, the connection was refused, TLS failed, it timed out) and the
//! request id to find the call in the log. The cause also becomes the call's error kind
//! (`unreachable_dns`, `unreachable_refused`, ...), so the log line and the dashboard say it.
//!
//! Never: put a provider key in the message (it goes through `scrub`), or guess a cause the
//! error chain does not show (`other`, with the error's own words, instead).

use std::io;

use crate::error::{scrub, CallError};

/// The closed cause label of a connection failure, and its words.
fn cause(error: &(dyn std::error::Error + 'static)) -> (&'static str, &'static str) {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = next {
        if e.downcast_ref::<rustls::Error>().is_some() {
            return ("tls", "the TLS handshake failed");
        }
        if let Some(io) = e.downcast_ref::<io::Error>() {
            if io
                .get_ref()
                .is_some_and(|inner| inner.is::<rustls::Error>())
            {
                return ("tls", "the TLS handshake failed");
            }
            let text = io.to_string();
            match io.kind() {
                io::ErrorKind::ConnectionRefused => {
                    return (
                        "refused",
                        "the connection was refused (nothing listens there)",
                    )
                }
                io::ErrorKind::TimedOut if text.contains("TLS") => {
                    return ("timeout", "the TLS handshake timed out")
                }
                io::ErrorKind::TimedOut => return ("timeout", "the connection timed out"),
                io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
                    return ("other", "the connection was reset")
                }
                _ => {}
            }
            // std says a failed lookup in these words (getaddrinfo's reason follows).
            if text.contains("failed to lookup address") || text.contains("Name or service") {
                return ("dns", "its name could not be resolved (DNS)");
            }
            if matches!(
                io.kind(),
                io::ErrorKind::NetworkUnreachable | io::ErrorKind::HostUnreachable
            ) {
                return ("other", "the network or host is unreachable");
            }
        }
        next = e.source();
    }
    ("other", "the connection failed")
}

/// The innermost error's own words (hyper's outer ones say only "client error (Connect)").
fn detail(error: &(dyn std::error::Error + 'static)) -> String {
    let mut last = error;
    while let Some(source) = last.source() {
        last = source;
    }
    last.to_string()
}

/// The error for a call whose provider at `host` could not be reached.
pub fn error(
    provider: &str,
    host: &str,
    error: &hyper_util::client::legacy::Error,
    request_id: &str,
    hidden: Option<&str>,
) -> CallError {
    let (label, words) = cause(error);
    let detail = scrub(&detail(error), hidden);
    CallError::Unreachable {
        cause: label,
        message: format!(
            "provider {provider} could not be reached at {host}: {words} ({detail}); request id {request_id}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_read_from_the_error_chain() {
        let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "Connection refused");
        assert_eq!(cause(&refused).0, "refused");
        let timeout = io::Error::new(io::ErrorKind::TimedOut, "connect timed out");
        assert_eq!(cause(&timeout).0, "timeout");
        let dns =
            io::Error::other("failed to lookup address information: Name or service not known");
        assert_eq!(cause(&dns).0, "dns");
        let tls = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert_eq!(cause(&tls).0, "tls");
        assert_eq!(cause(&io::Error::other("odd")).0, "other");
    }
}
