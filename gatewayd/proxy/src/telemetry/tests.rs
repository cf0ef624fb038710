//! The whole scrape parses as Prometheus text: a strict reader of the exposition format
//! (HELP and TYPE before samples, one TYPE per family, well-formed names and labels, no
//! duplicate series), run over a registry with every metric touched.

use std::collections::{BTreeMap, BTreeSet};

use super::events::*;
use super::exposition::valid_name;
use super::*;
use crate::identity::AuthGuard;

/// Parses `text`; returns each series (name and labels as written) with its value.
fn parse(text: &str) -> Result<BTreeMap<String, f64>, String> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut helps: BTreeSet<String> = BTreeSet::new();
    let mut series = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let at = |what: &str| format!("line {}: {what}: {line:?}", n + 1);
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, _) = rest
                .split_once(' ')
                .ok_or_else(|| at("HELP without text"))?;
            if !valid_name(name) || !helps.insert(name.to_string()) {
                return Err(at("bad or repeated HELP"));
            }
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest
                .split_once(' ')
                .ok_or_else(|| at("TYPE without kind"))?;
            if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                return Err(at("unknown type"));
            }
            if types.insert(name.to_string(), kind.to_string()).is_some() {
                return Err(at("repeated TYPE"));
            }
        } else if line.starts_with('#') || line.is_empty() {
            return Err(at("unexpected comment or blank line"));
        } else {
            let (key, value) = line.rsplit_once(' ').ok_or_else(|| at("no value"))?;
            let value: f64 = value.parse().map_err(|_| at("value not a number"))?;
            let name = match key.split_once('{') {
                Some((name, labels)) => {
                    let labels = labels
                        .strip_suffix('}')
                        .ok_or_else(|| at("unclosed labels"))?;
                    check_labels(labels).map_err(|e| at(&e))?;
                    name
                }
                None => key,
            };
            let kind = types
                .get(name)
                .ok_or_else(|| at("sample before its TYPE"))?;
            if kind == "counter" && value < 0.0 {
                return Err(at("negative counter"));
            }
            if series.insert(key.to_string(), value).is_some() {
                return Err(at("duplicate series"));
            }
        }
    }
    if types.len() != helps.len() {
        return Err("a family has TYPE without HELP or the reverse".into());
    }
    Ok(series)
}

/// `name="value",...` with the format's escapes, each name once.
fn check_labels(mut text: &str) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    while !text.is_empty() {
        let (name, rest) = text.split_once("=\"").ok_or("label without =\"")?;
        if !valid_name(name) || name.contains(':') || !seen.insert(name) {
            return Err(format!("bad or repeated label name {name:?}"));
        }
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next().ok_or("unterminated label value")? {
                (_, '\\') => match chars.next() {
                    Some((_, '\\' | '"' | 'n')) => {}
                    _ => return Err("bad escape in label value".into()),
                },
                (i, '"') => break i,
                (_, '\n') => return Err("raw newline in label value".into()),
                _ => {}
            }
        };
        text = &rest[end + 1..];
        text = match text.strip_prefix(',') {
            Some(more) if !more.is_empty() => more,
            Some(_) => return Err("trailing comma".into()),
            None if text.is_empty() => text,
            None => return Err("labels not separated by commas".into()),
        };
    }
    Ok(())
}

fn touched() -> Metrics {
    let metrics = Metrics::default();
    let peer = "192.0.2.7:5000".parse().unwrap();
    ConnectionAccepted {
        listener: Listener::Admin,
        peer,
    }
    .emit(&metrics);
    ConnectionRejected {
        listener: Listener::Proxy,
        limit: Limit::Source,
        max: 1,
        source: peer.ip(),
    }
    .emit(&metrics);
    TunnelIntercepted { blocked: true }.emit(&metrics);
    TunnelRefused {
        target: "a\"b",
        reason: TunnelRefusal::NotTlsOrHttp,
    }
    .emit(&metrics);
    BodyBytes { up: 3, down: 5 }.emit(&metrics);
    AgentPortCounted(devices::agent_port::PortEvent::Refused).emit(&metrics);
    metrics.inspect_buffered_bytes.add(2048);
    metrics
}

#[test]
fn the_scrape_is_valid_prometheus_text() {
    let metrics = touched();
    let stats = ::events::EventStats::default();
    let text = render(&metrics, 4, &AuthGuard::default(), Some(&stats), None);
    let series = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(
        series["warden_connections_accepted_total{listener=\"admin\"}"],
        1.0
    );
    assert_eq!(
        series["warden_connections_accepted_total{listener=\"proxy\"}"],
        0.0
    );
    assert_eq!(
        series["warden_connections_rejected_total{limit=\"limits.max_connections_per_source\"}"],
        1.0
    );
    assert_eq!(series["warden_tunnels_total{outcome=\"blocked\"}"], 1.0);
    assert_eq!(series["warden_tunnels_total{outcome=\"refused\"}"], 1.0);
    assert_eq!(series["warden_bytes_total{direction=\"down\"}"], 5.0);
    assert_eq!(series["warden_agent_refused_total"], 1.0);
    assert_eq!(series["warden_inspect_buffered_bytes"], 2048.0);
    assert_eq!(series["warden_leaf_cache_entries"], 4.0);
    assert_eq!(series["warden_events_dropped_total"], 0.0);
    assert_eq!(
        series["warden_proxy_auth_throttle_entries{table=\"names\"}"],
        0.0
    );
}

#[test]
fn every_declared_name_is_rendered_once_and_none_clash() {
    let text = render(&Metrics::default(), 0, &AuthGuard::default(), None, None);
    let names: BTreeSet<_> = Metrics::NAMES.iter().collect();
    assert_eq!(
        names.len(),
        Metrics::NAMES.len(),
        "a name is declared twice"
    );
    for name in Metrics::NAMES {
        assert!(name.starts_with("warden_"), "{name}");
        assert_eq!(
            text.matches(&format!("# TYPE {name} ")).count(),
            1,
            "{name} not rendered once"
        );
    }
    // The old clash: a CONNECT-tunnel counter and an agent-port counter one letter apart.
    assert!(!text.contains("warden_tunnel_refused_total"));
}

#[test]
fn the_reader_rejects_malformed_text() {
    assert!(parse("warden_x 1\n").is_err(), "no TYPE");
    assert!(parse("# HELP x h\n# TYPE x counter\nx{a=\"1\" 2\n").is_err());
    assert!(parse("# HELP x h\n# TYPE x counter\nx{a=\"\\q\"} 2\n").is_err());
    assert!(parse("# HELP x h\n# TYPE x counter\nx 1\nx 2\n").is_err());
    assert!(parse("# HELP x h\n# TYPE x counter\nx{a=\"1\",} 2\n").is_err());
}
