//! The PAC file the local proxy serves: split-tunnel destinations DIRECT, everything else
//! through the agent (with no DIRECT fallback unless the agent fails open).

use std::net::IpAddr;

use crate::split::SplitTunnel;

pub fn pac_file(listen: &str, split: &SplitTunnel, fail_open: bool) -> String {
    let mut conditions = Vec::new();
    for host in &split.hosts {
        conditions.push(format!("host == {}", js_string(host)));
    }
    for suffix in &split.suffixes {
        conditions.push(format!("dnsDomainIs(host, {})", js_string(suffix)));
    }
    for range in &split.ranges {
        if let (IpAddr::V4(net), IpAddr::V4(mask)) = (range.network(), range.netmask()) {
            conditions.push(format!("isInNet(host, \"{net}\", \"{mask}\")"));
        }
    }
    let direct = if conditions.is_empty() {
        String::new()
    } else {
        format!("  if ({}) return \"DIRECT\";\n", conditions.join(" || "))
    };
    let fallback = if fail_open { "; DIRECT" } else { "" };
    format!(
        "// Warden agent\nfunction FindProxyForURL(url, host) {{\n{direct}  return \"PROXY {listen}{fallback}\";\n}}\n"
    )
}

fn js_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn split_destinations_go_direct() {
        let split =
            SplitTunnel::parse(&["intranet".into(), "*.corp".into(), "10.0.0.0/8".into()]).unwrap();
        let pac = pac_file("127.0.0.1:3129", &split, false);
        assert!(pac.contains("host == \"intranet\""));
        assert!(pac.contains("dnsDomainIs(host, \".corp\")"));
        assert!(pac.contains("isInNet(host, \"10.0.0.0\", \"255.0.0.0\")"));
        assert!(pac.contains("return \"PROXY 127.0.0.1:3129\";"));
    }
}
