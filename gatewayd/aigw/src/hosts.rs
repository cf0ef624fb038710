//! The AI gateway port's `Host` allow list, against DNS rebinding (as the admin port's): a
//! web page on `evil.example` that re-points its own name at the gateway gets the browser to
//! send it there, but the request still says `Host: evil.example`, and that is refused with
//! 421 (400 without a `Host`).
//!
//! Allowed: IP literals (a rebinding needs a name), `localhost`, `aigw.host`, the names of
//! `[aigw.tls]`, and `aigw.allowed_hosts`. Only direct connections are checked here: the proxy and the agent
//! hand over only connections to `aigw.host`. Never decides anything from a header other
//! than `Host` (or an absolute-form target).

use std::net::IpAddr;

use http::Request;

use crate::error::CallError;

/// The names the port answers to.
#[derive(Debug, Clone, Default)]
pub struct HostNames {
    names: Vec<String>,
}

/// The name in a `Host` value (`name`, `name:port`, `[v6]:port`), lower-case, without a
/// trailing dot.
fn host_name(value: &str) -> Option<String> {
    let value = value.trim();
    let host = if let Some(rest) = value.strip_prefix('[') {
        rest.split_once(']')?.0
    } else {
        match value.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
            Some(_) => return None,
            None => value,
        }
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

impl HostNames {
    pub fn new(config: &config::AigwConfig) -> Self {
        let tls = config.tls.iter().flat_map(|t| &t.names);
        let names = config
            .host
            .iter()
            .chain(&config.allowed_hosts)
            .chain(tls)
            .filter_map(|n| host_name(n))
            .collect();
        Self { names }
    }

    /// Whether `origin` (an `Origin` header's value) is a page of one of the gateway's own
    /// names over https: the only pages that may call it with a proxy or device identity.
    pub fn is_own_origin(&self, origin: &str) -> bool {
        let Some(rest) = origin
            .trim()
            .to_ascii_lowercase()
            .strip_prefix("https://")
            .map(str::to_string)
        else {
            return false;
        };
        !rest.contains('/') && host_name(&rest).is_some_and(|n| self.names.contains(&n))
    }

    fn allowed(&self, value: &str) -> bool {
        let Some(name) = host_name(value) else {
            return false;
        };
        name.parse::<IpAddr>().is_ok() || name == "localhost" || self.names.contains(&name)
    }

    /// `Ok` when the request names an allowed host (its `Host`, or HTTP/2's authority, and
    /// an absolute-form target's host too).
    pub fn check<B>(&self, request: &Request<B>) -> Result<(), CallError> {
        let host = request
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string)
            .or_else(|| request.uri().authority().map(|a| a.to_string()));
        let Some(host) = host else {
            return Err(CallError::bad_request(
                "host",
                "the request has no Host header",
            ));
        };
        let target_ok = request
            .uri()
            .authority()
            .is_none_or(|a| self.allowed(a.as_str()));
        if target_ok && self.allowed(&host) {
            return Ok(());
        }
        Err(CallError::MisdirectedHost(
            "this AI gateway does not answer to that host name: use its address, localhost or \
             aigw.host, or add the name to aigw.allowed_hosts"
                .into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_be_rebound_are_refused() {
        let config = config::AigwConfig {
            host: Some("ai.warden.internal".into()),
            allowed_hosts: vec!["AI.Corp.Example.".into()],
            ..config::AigwConfig::default()
        };
        let hosts = HostNames::new(&config);
        let req = |host: &str| {
            Request::get("/v1/models")
                .header("host", host)
                .body(())
                .unwrap()
        };
        for ok in [
            "127.0.0.1:8089",
            "[::1]:8089",
            "localhost:8089",
            "ai.warden.internal",
            "ai.corp.example:443",
        ] {
            assert!(hosts.check(&req(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8089",
            "localhost.evil.example",
            "a:b:c",
        ] {
            assert_eq!(hosts.check(&req(bad)).unwrap_err().status(), 421, "{bad}");
        }
        let none = Request::get("/v1/models").body(()).unwrap();
        assert_eq!(hosts.check(&none).unwrap_err().status(), 400);
    }
}
