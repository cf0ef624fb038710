//! How callers reach the AI gateway besides plain HTTP on `aigw.listen`: TLS on that listener
//! (`[aigw.tls]`: a certificate Warden's CA mints for configured names, or a cert/key file
//! pair), the host name the proxy and the agent tunnel serve it under in-process
//! (`aigw.host`), and who may call on that path with only the identity the proxy or the agent
//! established (`[aigw.identity]`).
//!
//! What this module must never do: accept key material in the file itself (only paths), or
//! let identity-only callers in unless `[aigw.identity] allow = true` says so.

use std::path::PathBuf;

use serde::Deserialize;

/// TLS on the AI gateway's own listener: exactly one of `names` (minted by Warden's CA and
/// renewed before it expires) or `cert` + `key` (PEM files, read at start).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AigwTls {
    /// DNS names (or addresses) a Warden-minted certificate is served for, chosen by SNI; the
    /// first is served to a client that sends none.
    pub names: Vec<String>,
    /// A PEM certificate chain (leaf first) to serve instead of a minted one.
    pub cert: Option<PathBuf>,
    /// The PEM private key of `cert` (keep it 0600).
    pub key: Option<PathBuf>,
}

/// Callers identified by the proxy (`Proxy-Authorization` against the users file, or a proxy
/// token) or by an enrolled device's certificate, calling through `aigw.host` with no virtual
/// key. A virtual key presented on that path still works and wins.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AigwIdentity {
    /// Whether such callers are served at all (off: they need a virtual key like anyone).
    pub allow: bool,
    /// The models they may use (names, aliases or `provider/*`); empty: every configured one.
    pub models: Vec<String>,
    /// Only members of one of these groups (from the users file or the device registry);
    /// empty: every identified person. The first matching group is the call's team.
    pub groups: Vec<String>,
    /// Labels their calls carry into `ai_requests`.
    pub tags: Vec<String>,
}

/// Checks what types cannot in `aigw.host`, `[aigw.tls]` and `[aigw.identity]`: returns the
/// key to point at and the message.
pub(crate) fn validate(config: &crate::AigwConfig) -> Result<(), (&'static str, String)> {
    if let Some(host) = &config.host {
        if !matches!(
            ca::ServerIdentity::parse(host),
            Ok(ca::ServerIdentity::Dns(_))
        ) {
            return Err((
                "host",
                format!("aigw.host {host:?} must be a DNS name (e.g. \"ai.warden.internal\")"),
            ));
        }
    }
    if let Some(tls) = &config.tls {
        if config.listen.is_none() {
            return Err(("tls", "[aigw.tls] needs aigw.listen".into()));
        }
        match (tls.names.is_empty(), &tls.cert, &tls.key) {
            (false, None, None) => {
                for name in &tls.names {
                    if ca::ServerIdentity::parse(name).is_err() {
                        return Err((
                            "names",
                            format!("aigw.tls names {name:?} is not a DNS name or an address"),
                        ));
                    }
                }
            }
            (true, Some(_), Some(_)) => {}
            _ => {
                return Err((
                    "names",
                    "[aigw.tls] needs either names (a certificate minted by Warden's CA) or \
                     cert and key (PEM files), not both and not neither"
                        .into(),
                ))
            }
        }
    }
    let identity = &config.identity;
    if identity.allow && config.host.is_none() {
        return Err((
            "allow",
            "[aigw.identity] allow = true needs aigw.host: identities come only from the proxy \
             and the agent, which reach the AI gateway by that name"
                .into(),
        ));
    }
    for name in identity.groups.iter().chain(&identity.tags) {
        if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
            return Err((
                "groups",
                format!("[aigw.identity]: {name:?} must be 1-200 printable characters"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::AigwConfig;

    fn aigw(extra: impl FnOnce(&mut AigwConfig)) -> Result<(), (&'static str, String)> {
        let mut config = AigwConfig {
            listen: "127.0.0.1:0".parse().ok(),
            ..AigwConfig::default()
        };
        extra(&mut config);
        super::validate(&config)
    }

    #[test]
    fn tls_is_minted_names_or_a_file_pair_never_both() {
        let tls = |names: &[&str], cert: bool, key: bool| super::AigwTls {
            names: names.iter().map(|n| n.to_string()).collect(),
            cert: cert.then(|| "c.pem".into()),
            key: key.then(|| "k.pem".into()),
        };
        assert!(aigw(|c| c.tls = Some(tls(&["ai.corp.example"], false, false))).is_ok());
        assert!(aigw(|c| c.tls = Some(tls(&[], true, true))).is_ok());
        for bad in [
            tls(&[], false, false),
            tls(&["ai.corp.example"], true, true),
            tls(&[], true, false),
            tls(&["not a name"], false, false),
        ] {
            assert!(aigw(|c| c.tls = Some(bad.clone())).is_err(), "{bad:?}");
        }
        let no_listen = aigw(|c| {
            c.listen = None;
            c.tls = Some(tls(&["a.example"], false, false));
        });
        assert_eq!(no_listen.unwrap_err().0, "tls");
    }

    #[test]
    fn the_host_is_a_name_and_identity_callers_need_it() {
        assert!(aigw(|c| c.host = Some("ai.warden.internal".into())).is_ok());
        for bad in ["127.0.0.1", "", "ai warden"] {
            assert_eq!(aigw(|c| c.host = Some(bad.into())).unwrap_err().0, "host");
        }
        assert_eq!(
            aigw(|c| c.identity.allow = true).unwrap_err().0,
            "allow",
            "identity callers without the proxy path"
        );
    }
}
