//! Header hygiene between client and upstream: hop-by-hop headers stay on their hop, proxy
//! credentials never travel upstream, and HTTP/3 advertisements are removed so clients stay
//! on TCP where the gateway can see them.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Removes hop-by-hop headers, including those the Connection header names. `TE: trailers`
/// survives (gRPC needs it over HTTP/2).
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|token| HeaderName::from_bytes(token.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    let te_is_trailers = headers
        .get(header::TE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("trailers"));
    if !te_is_trailers {
        headers.remove(header::TE);
    }
}

/// Drops `Alt-Svc` entries that advertise HTTP/3 or QUIC; keeps the others.
pub fn strip_alt_svc_h3(headers: &mut HeaderMap) {
    let values: Vec<String> = headers
        .get_all(header::ALT_SVC)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    if values.is_empty() {
        return;
    }
    headers.remove(header::ALT_SVC);
    for value in values {
        let kept: Vec<&str> = value
            .split(',')
            .map(str::trim)
            .filter(|entry| {
                let protocol = entry
                    .split('=')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                !(protocol.starts_with("h3") || protocol.starts_with("quic"))
            })
            .collect();
        if kept.is_empty() {
            continue;
        }
        if let Ok(v) = HeaderValue::from_str(&kept.join(", ")) {
            headers.append(header::ALT_SVC, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_and_connection_named_headers_go() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-secret-hop"),
        );
        h.insert("x-secret-hop", HeaderValue::from_static("1"));
        h.insert(
            "proxy-authorization",
            HeaderValue::from_static("Basic Zm9vOmJhcg=="),
        );
        h.insert(header::TE, HeaderValue::from_static("gzip"));
        h.insert("x-keep", HeaderValue::from_static("1"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("x-keep"));
        let mut h = HeaderMap::new();
        h.insert(header::TE, HeaderValue::from_static("trailers"));
        strip_hop_by_hop(&mut h);
        assert!(h.contains_key(header::TE));
    }

    #[test]
    fn alt_svc_h3_entries_are_removed() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ALT_SVC,
            HeaderValue::from_static(
                "h3=\":443\"; ma=86400, h3-29=\":443\", h2=\"alt.example:443\"",
            ),
        );
        strip_alt_svc_h3(&mut h);
        assert_eq!(h[header::ALT_SVC], "h2=\"alt.example:443\"");
        let mut h = HeaderMap::new();
        h.insert(
            header::ALT_SVC,
            HeaderValue::from_static("h3=\":443\"; ma=86400"),
        );
        strip_alt_svc_h3(&mut h);
        assert!(!h.contains_key(header::ALT_SVC));
    }
}
