//! The PAC file at `/proxy.pac`: browsers without the agent use it to send web traffic
//! through the gateway (local and private destinations go direct).

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;

use crate::gateway::Snapshot;
use crate::upstream::ProxyBody;

/// The PAC script, naming the proxy as the client reached it (its Host header) so that it
/// works behind NAT and DNS names alike.
pub fn response(snapshot: &Snapshot, request: &Request<Incoming>) -> Response<ProxyBody> {
    let listen = snapshot.config.proxy.listen.to_string();
    let script = script_for(request.headers().get(header::HOST), &listen);
    let mut response = Response::new(
        Full::new(Bytes::from(script))
            .map_err(|e| match e {})
            .boxed(),
    );
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ns-proxy-autoconfig"),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    response
}

/// The script for a request with this `Host` header: the header names the proxy only when it
/// is plain `host[:port]` characters (it lands inside a JavaScript string), else `listen` does.
pub fn script_for(host: Option<&HeaderValue>, listen: &str) -> String {
    let proxy = host
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or(listen);
    pac_script(proxy)
}

fn pac_script(proxy: &str) -> String {
    format!(
        r#"// Warden proxy auto-configuration
function FindProxyForURL(url, host) {{
  if (isPlainHostName(host) || dnsDomainIs(host, ".local") ||
      host === "localhost" || shExpMatch(host, "127.*") ||
      isInNet(host, "10.0.0.0", "255.0.0.0") ||
      isInNet(host, "172.16.0.0", "255.240.0.0") ||
      isInNet(host, "192.168.0.0", "255.255.0.0")) {{
    return "DIRECT";
  }}
  return "PROXY {proxy}";
}}
"#
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_the_proxy() {
        let script = super::pac_script("gw.example:3128");
        assert!(script.contains("return \"PROXY gw.example:3128\";"));
        assert!(script.contains("FindProxyForURL"));
    }
}
