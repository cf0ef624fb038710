//! How a call reached the AI gateway and who it is from when it carries no virtual key.
//!
//! A call comes `direct` (the gateway's own listener, plain or TLS) or in-process from the
//! proxy (`proxy`: a CONNECT to `aigw.host` on the proxy port) or from an enrolled device's
//! agent (`agent`). On those two paths the proxy established who is calling — the proxy user
//! (`Proxy-Authorization`, a proxy token) or the enrolled device's user — and
//! `[aigw.identity]` says whether that is enough to call without a virtual key, which models
//! such callers may use, and the tags their calls carry. A virtual key presented on that path
//! still works and wins; a placeholder that is not one (SDKs insist on some `api_key`) is
//! ignored there.
//!
//! Never: take an identity from anything the caller sends (headers, body) — only from what
//! the proxy or the agent port established — or let an address range or an anonymous
//! loopback client call as a person.

use std::net::SocketAddr;

use crate::error::CallError;
use crate::vkeys::Caller;

/// Which way the call came in (`ai_requests.ingress_path`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngressPath {
    Direct,
    Proxy,
    Agent,
}

impl IngressPath {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Proxy => "proxy",
            Self::Agent => "agent",
        }
    }
}

/// Who the proxy or the agent port says is behind a proxied call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxiedIdentity {
    pub user: String,
    pub groups: Vec<String>,
    /// One person (credentials or a device certificate), not an address range or anonymous.
    pub person: bool,
    pub device_id: Option<String>,
}

/// How a connection reached the AI gateway: the path and, off the direct path, the identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    pub peer: SocketAddr,
    pub path: IngressPath,
    pub identity: Option<ProxiedIdentity>,
}

impl Arrival {
    pub fn direct(peer: SocketAddr) -> Self {
        Self {
            peer,
            path: IngressPath::Direct,
            identity: None,
        }
    }
}

/// How the caller was identified (`ai_requests.identity_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdentitySource {
    /// Not identified (the call was refused).
    #[default]
    None,
    VirtualKey,
    /// The proxy user, on the proxy path.
    ProxyUser,
    /// The enrolled device's user, on the agent path.
    Device,
}

impl IdentitySource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "",
            Self::VirtualKey => "virtual_key",
            Self::ProxyUser => "proxy_user",
            Self::Device => "device",
        }
    }
}

/// `[aigw.identity]` as the gateway applies it.
#[derive(Debug, Clone, Default)]
pub struct IdentityPolicy(pub config::AigwIdentity);

impl IdentityPolicy {
    /// The caller a proxied identity stands for, or why it may not call without a key.
    pub fn caller(&self, arrival: &Arrival) -> Result<(Caller, IdentitySource), CallError> {
        let Some(who) = arrival.identity.as_ref() else {
            return Err(no_key());
        };
        let policy = &self.0;
        if !policy.allow {
            return Err(CallError::Unauthenticated(
                "no virtual key: this gateway serves callers by their proxy or device identity \
                 only when [aigw.identity] allow = true; send Authorization: Bearer <key>"
                    .into(),
            ));
        }
        if !who.person {
            return Err(CallError::Unauthenticated(
                "no virtual key, and the proxy did not identify a person (an address range or \
                 anonymous client): sign in to the proxy or send Authorization: Bearer <key>"
                    .into(),
            ));
        }
        let team = if policy.groups.is_empty() {
            who.groups.first().cloned()
        } else {
            let team = who
                .groups
                .iter()
                .find(|g| policy.groups.contains(g))
                .cloned();
            if team.is_none() {
                return Err(CallError::Forbidden(format!(
                    "{} is in none of the groups that may call the AI gateway without a key",
                    who.user
                )));
            }
            team
        };
        let source = match arrival.path {
            IngressPath::Agent => IdentitySource::Device,
            _ => IdentitySource::ProxyUser,
        };
        let caller = Caller {
            key_id: String::new(),
            key_name: String::new(),
            user: who.user.clone(),
            team,
            models: policy.models.clone(),
            tags: policy.tags.clone(),
        };
        Ok((caller, source))
    }
}

fn no_key() -> CallError {
    CallError::Unauthenticated(
        "no virtual key: send Authorization: Bearer <key> (or x-api-key); `gatewayd aigw keys create` makes one".into(),
    )
}

/// Refuses a call that would ride on the proxy's or the agent's identity from another
/// site's page. That identity is ambient in a browser (every request through the proxy or
/// the agent carries it), so without this any site could make a person's browser call the
/// AI gateway as them (a form post needs no CORS preflight). Browsers say where a request
/// comes from (`Sec-Fetch-Site`, `Origin`); SDKs and scripts send neither and are unaffected.
pub fn refuse_cross_site(
    headers: &http::HeaderMap,
    own: &crate::hosts::HostNames,
) -> Result<(), CallError> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    let refused = || {
        Err(CallError::Forbidden(
            "cross-site request refused: a page of another site may not call the AI gateway \
             with your proxy or device identity"
                .into(),
        ))
    };
    if text("sec-fetch-site").is_some_and(|s| s != "same-origin" && s != "none") {
        return refused();
    }
    // An Origin is judged on its own, not against `Host` (which HTTP/2 and the proxy's
    // in-process path may leave out): only the gateway's own names pass, so a browser
    // without Fetch Metadata is held too. Every Origin header counts (not only the first).
    for origin in headers.get_all(http::header::ORIGIN) {
        if !origin.to_str().is_ok_and(|o| own.is_own_origin(o)) {
            return refused();
        }
    }
    Ok(())
}

/// Whether a presented credential is meant as a virtual key (and so is checked, and wins,
/// on every path); anything else is a placeholder on the proxied paths.
pub fn is_virtual_key(presented: &str) -> bool {
    presented.starts_with(crate::vkeys::KEY_PREFIX)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn arrival(path: IngressPath, person: bool, groups: &[&str]) -> Arrival {
        Arrival {
            peer: "127.0.0.1:1".parse().unwrap(),
            path,
            identity: Some(ProxiedIdentity {
                user: "alice".into(),
                groups: groups.iter().map(|g| g.to_string()).collect(),
                person,
                device_id: None,
            }),
        }
    }

    fn policy(allow: bool, groups: &[&str]) -> IdentityPolicy {
        IdentityPolicy(config::AigwIdentity {
            allow,
            models: vec!["gpt-4o-mini".into()],
            groups: groups.iter().map(|g| g.to_string()).collect(),
            tags: vec!["proxied".into()],
        })
    }

    #[test]
    fn a_person_the_proxy_identified_calls_as_themselves_when_allowed() {
        let (caller, source) = policy(true, &[])
            .caller(&arrival(IngressPath::Proxy, true, &["eng", "all"]))
            .unwrap();
        assert_eq!(caller.user, "alice");
        assert_eq!(caller.team.as_deref(), Some("eng"));
        assert_eq!(caller.models, ["gpt-4o-mini"]);
        assert_eq!(caller.tags, ["proxied"]);
        assert_eq!(source, IdentitySource::ProxyUser);
        let (_, source) = policy(true, &[])
            .caller(&arrival(IngressPath::Agent, true, &[]))
            .unwrap();
        assert_eq!(source, IdentitySource::Device);
    }

    #[test]
    fn another_sites_page_may_not_ride_on_the_identity() {
        let check = |pairs: &[(&'static str, &'static str)]| {
            let mut headers = http::HeaderMap::new();
            for (name, value) in pairs {
                headers.append(*name, http::HeaderValue::from_static(value));
            }
            let own = crate::hosts::HostNames::new(&config::AigwConfig {
                host: Some("ai.example".into()),
                ..config::AigwConfig::default()
            });
            refuse_cross_site(&headers, &own).is_ok()
        };
        assert!(check(&[]));
        assert!(check(&[("sec-fetch-site", "same-origin")]));
        assert!(check(&[("sec-fetch-site", "none")]));
        assert!(check(&[
            ("origin", "https://ai.example"),
            ("host", "ai.example:443")
        ]));
        assert!(!check(&[("sec-fetch-site", "cross-site")]));
        assert!(!check(&[("sec-fetch-site", "same-site")]));
        assert!(!check(&[
            ("origin", "https://evil.example"),
            ("host", "ai.example")
        ]));
        assert!(!check(&[("origin", "null")]));
        // No Sec-Fetch-Site and no Host (HTTP/2, older browsers): the Origin alone decides.
        assert!(!check(&[("origin", "https://evil.example")]));
        assert!(!check(&[("origin", "http://ai.example")]));
        assert!(!check(&[("origin", "https://ai.example.evil.example")]));
        assert!(check(&[("origin", "https://ai.example")]));
        assert!(!check(&[
            ("origin", "https://ai.example"),
            ("origin", "https://evil.example")
        ]));
    }

    #[test]
    fn identity_alone_is_refused_unless_allowed_for_a_person_in_the_groups() {
        let refused = |p: IdentityPolicy, a: Arrival| p.caller(&a).unwrap_err().status();
        assert_eq!(
            refused(policy(false, &[]), arrival(IngressPath::Proxy, true, &[])),
            401
        );
        assert_eq!(
            refused(policy(true, &[]), arrival(IngressPath::Proxy, false, &[])),
            401
        );
        assert_eq!(
            refused(
                policy(true, &["ml"]),
                arrival(IngressPath::Proxy, true, &["eng"])
            ),
            403
        );
        let direct = Arrival::direct("127.0.0.1:1".parse().unwrap());
        assert_eq!(refused(policy(true, &[]), direct), 401);
        let (caller, _) = policy(true, &["ml"])
            .caller(&arrival(IngressPath::Proxy, true, &["eng", "ml"]))
            .unwrap();
        assert_eq!(caller.team.as_deref(), Some("ml"));
    }
}
