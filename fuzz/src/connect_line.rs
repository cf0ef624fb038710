//! The CONNECT request target (`host:port`), as the proxy port and the agent tunnel parse it.

use proxy::listen::parse_target;

/// Parses `data` as a request target the way hyper hands it over, then checks what
/// `parse_target` accepted: a non-empty host with no delimiter a URL could smuggle, a port
/// that is not 0, and a target that, written back as `host:port`, parses to itself.
pub fn connect_line(data: &[u8]) -> Option<(String, u16)> {
    let uri = http::Uri::try_from(data).ok()?;
    let parsed = parse_target(&uri);
    if let Some((host, port)) = &parsed {
        assert!(!host.is_empty() && *port != 0, "{uri}");
        assert!(host.len() <= data.len());
        assert!(
            !host
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b"/?#@".contains(&b)),
            "{host:?} from {uri}"
        );
        let written = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let again = http::Uri::try_from(written.as_str())
            .unwrap_or_else(|e| panic!("{written:?} does not parse back: {e}"));
        assert_eq!(parse_target(&again), parsed, "{uri}");
    }
    parsed
}
