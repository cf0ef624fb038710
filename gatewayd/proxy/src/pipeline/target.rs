//! The request_filter phase: work out the one origin a request may go to, and refuse requests
//! that try to reach a different host than the tunnel they arrived in.

use http::{header, Request, StatusCode, Uri};

use super::context::ConnectionContext;
use crate::outcome::Outcome;
use crate::respond::Refusal;
use policies::host_list::normalise_host;

/// The origin a request goes to.
pub struct Target {
    pub host: String,
    pub uri: Uri,
}

fn bad_request(rule: &str, reason: String) -> Refusal {
    Refusal::new(
        StatusCode::BAD_REQUEST,
        Outcome::Error,
        rule,
        "Bad request",
        reason,
    )
}

/// Resolves the upstream URI for `request`.
pub fn resolve<B>(conn: &ConnectionContext, request: &Request<B>) -> Result<Target, Refusal> {
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .filter(|p| p.starts_with('/'))
        .unwrap_or("/");
    let (scheme, host, port) = match &conn.tunnel {
        Some(tunnel) => {
            let asked = request.uri().host().map(str::to_owned).or_else(|| {
                let value = request.headers().get(header::HOST)?.to_str().ok()?;
                let authority: http::uri::Authority = value.parse().ok()?;
                Some(authority.host().to_owned())
            });
            if let Some(asked) = asked {
                if normalise_host(&asked) != normalise_host(&tunnel.host) {
                    return Err(Refusal::new(
                        StatusCode::MISDIRECTED_REQUEST,
                        Outcome::Block,
                        "request.host_mismatch",
                        "Request does not match its connection",
                        format!(
                            "The request is for {asked}, but its connection was opened to {}.",
                            tunnel.host
                        ),
                    ));
                }
            }
            (tunnel.scheme, tunnel.host.clone(), tunnel.port)
        }
        None => {
            let uri = request.uri();
            match uri.scheme_str() {
                Some("http") => {}
                Some(other) => {
                    return Err(bad_request(
                        "request.scheme",
                        format!("The proxy forwards http:// URLs; use CONNECT for {other}://."),
                    ))
                }
                None => {
                    return Err(bad_request(
                        "request.target",
                        "Requests to the proxy need an absolute URL (http://host/path).".into(),
                    ))
                }
            }
            let host = uri
                .host()
                .ok_or_else(|| bad_request("request.target", "The URL has no host.".into()))?;
            if crate::intercept::local::is_local_name(&conn.snapshot.config, host) {
                // The AI gateway's name is never resolved or dialled, and never served in clear.
                return Err(crate::intercept::local::https_only(host));
            }
            ("http", host.to_owned(), uri.port_u16().unwrap_or(80))
        }
    };
    let default_port = if scheme == "https" { 443 } else { 80 };
    let authority = if port == default_port {
        bracket(&host)
    } else {
        format!("{}:{port}", bracket(&host))
    };
    let uri = Uri::builder()
        .scheme(scheme)
        .authority(authority.as_str())
        .path_and_query(path)
        .build()
        .map_err(|e| bad_request("request.target", format!("Invalid request target: {e}")))?;
    Ok(Target { host, uri })
}

fn bracket(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}
