//! The PAC script served at `/proxy.pac`, which names the proxy from the request's Host header.

use http::HeaderValue;
use proxy::listen::pac::script_for;

const LISTEN: &str = "192.0.2.10:3128";

/// Builds the script for a request whose Host header is `host`: whatever the header holds, it
/// can only change the proxy name, and that name is plain `host[:port]` characters (no quote,
/// no code reaches the script).
pub fn pac(host: &[u8]) -> String {
    let value = HeaderValue::from_bytes(host).ok();
    let script = script_for(value.as_ref(), LISTEN);
    let template = script_for(None, LISTEN);
    let start = script
        .find("return \"PROXY ")
        .map(|at| at + "return \"PROXY ".len());
    let name = start
        .and_then(|s| script[s..].find('"').map(|len| &script[s..s + len]))
        .unwrap_or_else(|| panic!("no PROXY line in {script:?}"));
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)),
        "{name:?}"
    );
    assert!(name == LISTEN || value.is_some_and(|v| v.as_bytes() == name.as_bytes()));
    assert_eq!(script, template.replace(LISTEN, name));
    script
}
