//! The admin port's `Host` allow list, against DNS rebinding: a web page on `evil.example`
//! that re-points its own name at 127.0.0.1 gets the browser to send it the dashboard's
//! answers, but the request still says `Host: evil.example`, and that is refused here.
//!
//! Allowed: IP literals (a rebinding needs a name; a page whose origin is the address itself
//! is the admin port's own), `localhost`, the host of `admin.public_url`, and
//! `admin.allowed_hosts`. Never decides anything from a header other than `Host`.

use std::net::IpAddr;

use policies::host::{header_host_name as host_name, url_host};

use crate::view::Settings;

/// Whether the admin port answers a request with this `Host` header.
pub fn allowed(config: &Settings, host: Option<&str>) -> bool {
    let Some(name) = host.and_then(host_name) else {
        return false;
    };
    name.parse::<IpAddr>().is_ok()
        || name == "localhost"
        || config
            .public_url
            .as_deref()
            .and_then(url_host)
            .is_some_and(|public| public == name)
        || config
            .allowed_hosts
            .iter()
            .any(|h| h.trim_end_matches('.').eq_ignore_ascii_case(&name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_be_rebound_are_refused() {
        let mut config = Settings {
            state_dir: "/var/lib/warden".into(),
            clickhouse: Default::default(),
            session_ttl: std::time::Duration::from_secs(8 * 3600),
            query_timeout: std::time::Duration::from_secs(10),
            query_max_rows: 1000,
            query_max_bytes: 4 * 1024 * 1024,
            query_concurrency: 4,
            allowed_hosts: Vec::new(),
            public_url: None,
        };
        for ok in [
            "127.0.0.1:9090",
            "localhost:9090",
            "[::1]:9090",
            "10.1.2.3",
            "LOCALHOST.",
        ] {
            assert!(allowed(&config, Some(ok)), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:9090",
            "localhost.evil.example",
            "",
            "a:b:c",
        ] {
            assert!(!allowed(&config, Some(bad)), "{bad}");
        }
        assert!(!allowed(&config, None));
        config.public_url = Some("https://warden.example.com/".into());
        config.allowed_hosts = vec!["gatewayd-admin".into()];
        assert!(allowed(&config, Some("warden.example.com")));
        assert!(allowed(&config, Some("Gatewayd-Admin:9090")));
        assert!(!allowed(&config, Some("evil.example")));
        assert_eq!(url_host("https://u@evil.example"), None);
        assert_eq!(url_host("ftp://x"), None);
    }
}
