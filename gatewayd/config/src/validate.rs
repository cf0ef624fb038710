//! Checks that need more than types: security rules (never an open proxy), address syntax,
//! host patterns, sane limits. Errors point at the offending key when it is in the file.

use std::net::SocketAddr;

use super::Config;
use policies::host_list::HostList;

type Problem = (Option<usize>, String);

/// Validates a parsed config; `text` is its file (empty for defaults), used to place errors.
pub(crate) fn validate(config: &Config, text: &str) -> Result<(), Problem> {
    let at = |key: &str| find_key(text, key);
    let proxy = &config.proxy;
    if !proxy.listen.ip().is_loopback()
        && proxy.allow_sources.is_empty()
        && proxy.users_file.is_none()
    {
        return Err((
            at("listen"),
            format!(
                "proxy.listen {} is not a loopback address: set proxy.allow_sources or \
                 proxy.users_file so the gateway is never an open proxy",
                proxy.listen
            ),
        ));
    }
    admin(config, text)?;
    crate::aigw::validate(&config.aigw)
        .map_err(|(key, message)| (find_section_key(text, "aigw", key), message))?;
    crate::aigw_chat::validate(&config.aigw)
        .map_err(|(key, message)| (find_section_key(text, "aigw.chat", key), message))?;
    crate::coaching::validate(&config.coaching)
        .map_err(|(key, message)| (find_section_key(text, "coaching", key), message))?;
    crate::ai_keys::validate(&config.ai_keys)
        .map_err(|(key, message)| (find_section_key(text, "ai_keys", key), message))?;
    config
        .inference
        .validate()
        .map_err(|(key, message)| (find_section_key(text, "inference", key), message))?;
    if config.inference.model.is_none() {
        if let Some(p) = config
            .aigw
            .providers
            .iter()
            .find(|p| p.kind == crate::ProviderKind::Local)
        {
            return Err((
                find_section_key(text, "aigw", "providers"),
                format!(
                    "aigw.providers {:?}: kind = \"local\" needs [inference] model = \"PATH.gguf\"",
                    p.name
                ),
            ));
        }
    }
    crate::aigw::validate_prices(&config.aigw)
        .map_err(|(i, key, message)| (find_table_key(text, "aigw.prices", i, key), message))?;
    crate::aigw_budgets::validate_budgets(&config.aigw.budgets)
        .map_err(|(i, key, message)| (find_table_key(text, "aigw.budgets", i, key), message))?;
    crate::aigw_budgets::validate_limits(&config.aigw.limits)
        .map_err(|(i, key, message)| (find_table_key(text, "aigw.limits", i, key), message))?;
    crate::aigw_shared::validate_shared(&config.aigw.shared)
        .map_err(|(key, message)| (find_section_key(text, "aigw.shared", key), message))?;
    crate::aigw_routes::validate_routes(&config.aigw).map_err(|(i, key, message)| match i {
        Some(i) => (find_table_key(text, "aigw.routes", i, key), message),
        None => (find_section_key(text, "aigw.breaker", key), message),
    })?;
    crate::telemetry::validate(&config.telemetry.otlp)
        .map_err(|(key, message)| (find_section_key(text, "telemetry.otlp", key), message))?;
    crate::siem::validate(&config.siem)
        .map_err(|(i, key, message)| (find_table_key(text, "siem.sinks", i, key), message))?;
    crate::tenants::validate(&config.tenants).map_err(|(app, message)| {
        let section = format!("tenants.{app}");
        (find_section_key(text, &section, "ids"), message)
    })?;
    for (key, profile) in [
        ("dlp_profile", &config.aigw.dlp_profile),
        ("response_dlp_profile", &config.aigw.response_dlp_profile),
    ] {
        let Some(profile) = profile else { continue };
        let engine = dlp::DlpEngine::shipped().map_err(|e| (None, format!("DLP engine: {e}")))?;
        if !engine.has_profile(profile) {
            let known: Vec<&str> = engine.profile_names().collect();
            return Err((
                find_section_key(text, "aigw", key),
                format!(
                    "aigw.{key} {profile:?} is not a DLP profile; known: {}",
                    known.join(", ")
                ),
            ));
        }
    }
    if config.aigw.response_dlp != crate::AigwResponseDlp::Off
        && config.aigw.response_dlp_profile.is_none()
        && config.aigw.dlp_profile.is_none()
    {
        return Err((
            find_section_key(text, "aigw", "response_dlp"),
            "aigw.response_dlp needs a profile to scan answers with: set response_dlp_profile (or dlp_profile)".into(),
        ));
    }
    let master = &config.keys.master_key;
    let source_ok = ["env:", "file:", "systemd:"]
        .iter()
        .any(|p| master.strip_prefix(p).is_some_and(|rest| !rest.is_empty()));
    if !source_ok {
        // Never echo the value: someone may have pasted the key itself here.
        return Err((
            at("master_key"),
            "keys.master_key must be env:NAME, file:PATH or systemd:NAME (where the master \
             key is, never the key itself)"
                .to_string(),
        ));
    }
    for (from, to) in &config.upstream.connect_to {
        let valid_from = from
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !valid_from {
            return Err((
                at(from),
                format!("upstream.connect_to key {from:?} must be \"host:port\""),
            ));
        }
        if to.parse::<SocketAddr>().is_err() {
            return Err((
                at(from),
                format!("upstream.connect_to value {to:?} must be \"addr:port\""),
            ));
        }
    }
    if let Some(problem) = super::forbidden_network(&config.egress) {
        return Err((at("allow_networks"), problem));
    }
    for pattern in config
        .intercept
        .do_not_inspect
        .iter()
        .chain(&config.intercept.block)
        .chain(&config.egress.allow_hosts)
    {
        HostList::parse(std::slice::from_ref(pattern)).map_err(|e| (at(pattern), e.to_string()))?;
    }
    if config.limits.max_connections == 0 {
        return Err((
            at("max_connections"),
            "limits.max_connections must be at least 1".into(),
        ));
    }
    for (key, value) in [
        (
            "max_connections_per_source",
            config.limits.max_connections_per_source,
        ),
        (
            "max_connections_per_user",
            config.limits.max_connections_per_user,
        ),
    ] {
        if value == 0 {
            return Err((at(key), format!("limits.{key} must be at least 1")));
        }
    }
    if config.inspect.max_buffered_bytes < config.inspect.max_body_bytes {
        return Err((
            at("max_buffered_bytes"),
            format!(
                "inspect.max_buffered_bytes ({}) must be at least inspect.max_body_bytes ({}), \
                 or no body of the largest size could ever be inspected",
                config.inspect.max_buffered_bytes, config.inspect.max_body_bytes
            ),
        ));
    }
    if config.inspect.max_buffered_bytes_per_user < config.inspect.max_body_bytes {
        return Err((
            at("max_buffered_bytes_per_user"),
            format!(
                "inspect.max_buffered_bytes_per_user ({}) must be at least inspect.max_body_bytes \
                 ({}), or no one could send a body of the largest size",
                config.inspect.max_buffered_bytes_per_user, config.inspect.max_body_bytes
            ),
        ));
    }
    if config.limits.max_header_bytes < 1024 {
        return Err((
            at("max_header_bytes"),
            "limits.max_header_bytes must be at least 1024".into(),
        ));
    }
    if config.intercept.leaf_cache_size == 0 {
        return Err((
            at("leaf_cache_size"),
            "intercept.leaf_cache_size must be at least 1".into(),
        ));
    }
    if !(1..=100_000).contains(&config.admin.query_max_rows) {
        return Err((
            at("query_max_rows"),
            "admin.query_max_rows must be 1 to 100000".into(),
        ));
    }
    if !(64 * 1024..=64 * 1024 * 1024).contains(&config.admin.query_max_bytes) {
        return Err((
            at("query_max_bytes"),
            "admin.query_max_bytes must be 65536 (64 KiB) to 67108864 (64 MiB)".into(),
        ));
    }
    if !(1..=64).contains(&config.admin.query_concurrency) {
        return Err((
            at("query_concurrency"),
            "admin.query_concurrency must be 1 to 64".into(),
        ));
    }
    validate_reader(&config.clickhouse).map_err(|(key, message)| (at(key), message))?;
    if config.admin.query_timeout.0.as_secs() < 1 || config.admin.session_ttl.0.as_secs() < 60 {
        return Err((
            at("query_timeout"),
            "admin.query_timeout must be at least 1s and admin.session_ttl at least 1m".into(),
        ));
    }
    let tunnel = &config.tunnel;
    if let Some(name) = &tunnel.server_name {
        ca::ServerIdentity::parse(name).map_err(|e| {
            (
                at("server_name"),
                format!("tunnel.server_name {name:?} must be a host name or an IP address: {e}"),
            )
        })?;
    }
    if tunnel.enroll_max_connections == 0
        || tunnel.enroll_max_in_flight == 0
        || tunnel.enroll_per_source_per_minute == 0
    {
        return Err((
            at("enroll_max_connections"),
            "tunnel.enroll_max_connections, enroll_max_in_flight and \
             enroll_per_source_per_minute must be at least 1"
                .into(),
        ));
    }
    if tunnel.signed_posture_max_age.0.as_secs() < 60 {
        return Err((
            at("signed_posture_max_age"),
            "tunnel.signed_posture_max_age must be at least 1m".into(),
        ));
    }
    tracing_subscriber::EnvFilter::try_new(&config.log.level).map_err(|e| {
        (
            at("level"),
            format!("log.level {:?}: {e}", config.log.level),
        )
    })?;
    Ok(())
}

/// The admin port serves tokens, sessions and approvals over plain HTTP: off loopback only
/// when asked for, and only under host names that cannot be rebound.
fn admin(config: &Config, text: &str) -> Result<(), Problem> {
    let admin = &config.admin;
    let at = |key: &str| find_section_key(text, "admin", key);
    if admin.max_connections == 0 {
        return Err((
            at("max_connections"),
            "admin.max_connections must be at least 1".into(),
        ));
    }
    if admin.max_connections_per_source == 0 {
        return Err((
            at("max_connections_per_source"),
            "admin.max_connections_per_source must be at least 1".into(),
        ));
    }
    if !admin.listen.ip().is_loopback() && !admin.allow_remote {
        return Err((
            at("listen"),
            format!(
                "admin.listen {} is not a loopback address: the admin port (API tokens, \
                 dashboard logins, approvals) speaks plain HTTP, so keep it on loopback, or set \
                 admin.allow_remote = true once it is only reachable from a trusted network or \
                 behind a TLS reverse proxy",
                admin.listen
            ),
        ));
    }
    if let Some(url) = &admin.public_url {
        if policies::host::url_host(url).is_none() {
            return Err((
                at("public_url"),
                format!(
                    "admin.public_url {url:?} must be http://HOST[:PORT] or https://HOST[:PORT]"
                ),
            ));
        }
    }
    for host in &admin.allowed_hosts {
        let valid = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
        if !valid {
            return Err((
                at("allowed_hosts"),
                format!("admin.allowed_hosts entry {host:?} must be a host name, without port"),
            ));
        }
    }
    Ok(())
}

/// Byte offset of `key = ` inside `[section]` (or anywhere, when the file has no such line).
fn find_section_key(text: &str, section: &str, key: &str) -> Option<usize> {
    let header = format!("[{section}]");
    let start = text
        .lines()
        .scan(0usize, |offset, line| {
            let start = *offset;
            *offset += line.len() + 1;
            Some((start, line))
        })
        .find(|(_, line)| line.trim() == header)
        .map(|(start, _)| start);
    match start {
        Some(start) => Some(find_key(&text[start..], key).map_or(start, |o| start + o)),
        None => find_key(text, key),
    }
}

/// Byte offset of `key` in the `index`-th `[[table]]` of the file (its header when the key
/// is not there).
fn find_table_key(text: &str, table: &str, index: usize, key: &str) -> Option<usize> {
    let header = format!("[[{table}]]");
    let mut offset = 0;
    let mut found = 0;
    for line in text.split_inclusive('\n') {
        if line.trim() == header {
            if found == index {
                let rest = &text[offset..];
                let end = rest[header.len()..]
                    .find("\n[")
                    .map_or(rest.len(), |e| e + header.len());
                return Some(find_key(&rest[..end], key).map_or(offset, |o| offset + o));
            }
            found += 1;
        }
        offset += line.len();
    }
    None
}

/// Byte offset of the first place `key` appears as a key or quoted value in the file.
/// The reader user must be someone else than the writer, or it is no wall at all.
fn validate_reader(ch: &super::ClickHouseConfig) -> Result<(), (&'static str, String)> {
    let Some(reader) = &ch.reader_user else {
        if ch.reader_password.is_some() || ch.reader_password_file.is_some() {
            return Err((
                "reader_password",
                "clickhouse.reader_password needs clickhouse.reader_user".into(),
            ));
        }
        return Ok(());
    };
    let writer = ch.user.as_deref().unwrap_or("default");
    if reader.is_empty() || reader == writer {
        return Err((
            "reader_user",
            format!(
                "clickhouse.reader_user must name a user other than the writer ({writer:?}): \
                 reports and the log explorer run as it so they cannot write"
            ),
        ));
    }
    if !reader
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err((
            "reader_user",
            "clickhouse.reader_user may hold only letters, digits, '_' and '-'".into(),
        ));
    }
    Ok(())
}

pub(crate) fn find_key(text: &str, key: &str) -> Option<usize> {
    let quoted = format!("\"{key}\"");
    text.lines()
        .scan(0usize, |offset, line| {
            let start = *offset;
            *offset += line.len() + 1;
            Some((start, line))
        })
        .find_map(|(start, line)| {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            if trimmed.starts_with(key) && trimmed[key.len()..].trim_start().starts_with('=') {
                Some(start + indent)
            } else {
                line.find(&quoted).map(|i| start + i)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{line_col, parse};

    fn check(text: &str) -> Result<(), String> {
        let config = parse("c.toml", text).map_err(|e| e.to_string())?;
        validate(&config, text).map_err(|(o, m)| {
            let (l, c) = o.map(|o| line_col(text, o)).unwrap_or((0, 0));
            format!("{l}:{c}: {m}")
        })
    }

    #[test]
    fn open_proxy_is_refused() {
        let err = check("[proxy]\nlisten = \"0.0.0.0:3128\"\n").unwrap_err();
        assert!(err.starts_with("2:1: "), "{err}");
        assert!(err.contains("open proxy"), "{err}");
        check("[proxy]\nlisten = \"0.0.0.0:3128\"\nallow_sources = [\"10.0.0.0/8\"]\n").unwrap();
    }

    #[test]
    fn a_remote_admin_port_needs_an_explicit_opt_in() {
        let text = "[proxy]\nlisten = \"127.0.0.1:3128\"\n[admin]\nlisten = \"0.0.0.0:9090\"\n";
        let err = check(text).unwrap_err();
        assert!(err.starts_with("4:1: "), "{err}");
        assert!(err.contains("admin.allow_remote = true"), "{err}");
        check("[admin]\nlisten = \"0.0.0.0:9090\"\nallow_remote = true\n").unwrap();
        check("[admin]\nlisten = \"[::1]:9090\"\n").unwrap();
        assert!(check("[admin]\npublic_url = \"warden.example\"\n").is_err());
        check("[admin]\npublic_url = \"https://warden.example\"\n").unwrap();
        assert!(check("[admin]\nallowed_hosts = [\"evil.example:80\"]\n").is_err());
    }

    #[test]
    fn connect_to_must_be_host_port_to_addr_port() {
        check("[upstream.connect_to]\n\"a.example:443\" = \"127.0.0.1:8443\"\n").unwrap();
        let err = check("[upstream.connect_to]\n\"a.example\" = \"127.0.0.1:8443\"\n").unwrap_err();
        assert!(err.starts_with("2:1: "), "{err}");
        assert!(check("[upstream.connect_to]\n\"a:1\" = \"nowhere\"\n").is_err());
    }

    #[test]
    fn the_reader_user_is_someone_else_than_the_writer() {
        check("[clickhouse]\nuser = \"warden\"\nreader_user = \"warden_reader\"\n").unwrap();
        let same =
            check("[clickhouse]\nuser = \"warden\"\nreader_user = \"warden\"\n").unwrap_err();
        assert!(
            same.starts_with("3:1: ") && same.contains("other than the writer"),
            "{same}"
        );
        let default = check("[clickhouse]\nreader_user = \"default\"\n").unwrap_err();
        assert!(default.contains("\"default\""), "{default}");
        let orphan = check("[clickhouse]\nreader_password = \"x\"\n").unwrap_err();
        assert!(orphan.contains("needs clickhouse.reader_user"), "{orphan}");
        assert!(check("[clickhouse]\nreader_user = \"a b\"\n").is_err());
        assert!(check("[admin]\nquery_concurrency = 0\n").is_err());
        assert!(check("[admin]\nmax_connections = 0\n").is_err());
        assert!(check("[admin]\nmax_connections_per_source = 0\n").is_err());
        assert!(check("[admin]\nquery_max_bytes = 100\n").is_err());
    }

    #[test]
    fn bad_host_patterns_are_refused() {
        let err = check("[intercept]\ndo_not_inspect = [\"*.\"]\n").unwrap_err();
        assert!(err.starts_with("2:19: "), "{err}");
    }

    const PROVIDER: &str = "[[aigw.providers]]\nname = \"openai\"\nkind = \"openai\"\nbase_url = \"https://api.openai.com/v1\"\nkey = \"openai-prod\"\n";

    #[test]
    fn the_ai_gateway_is_checked_before_it_listens() {
        let on = format!("[aigw]\nlisten = \"127.0.0.1:0\"\n{PROVIDER}");
        check(&on).unwrap();
        let config = crate::load::parse("c.toml", &on).unwrap();
        assert_eq!(config.aigw.providers[0].kind, crate::ProviderKind::Openai);
        let remote = check(&format!("[aigw]\nlisten = \"0.0.0.0:8080\"\n{PROVIDER}")).unwrap_err();
        assert!(
            remote.starts_with("2:1: ") && remote.contains("allow_remote"),
            "{remote}"
        );
        check(&format!(
            "[aigw]\nlisten = \"0.0.0.0:8080\"\nallow_remote = true\n{PROVIDER}"
        ))
        .unwrap();
        let empty = check("[aigw]\nlisten = \"127.0.0.1:0\"\n").unwrap_err();
        assert!(empty.contains("providers is empty"), "{empty}");
        let pasted = check(&PROVIDER.replace("openai-prod", "sk-proj-AAAA BBBB")).unwrap_err();
        assert!(
            pasted.contains("never the key itself") && !pasted.contains("AAAA"),
            "{pasted}"
        );
        let url =
            check(&PROVIDER.replace("https://api.openai.com/v1", "https://u:p@x/v1")).unwrap_err();
        assert!(url.contains("base_url"), "{url}");
        let kind = check(&PROVIDER.replace("kind = \"openai\"", "kind = \"vertex\"")).unwrap_err();
        assert!(kind.contains("unknown variant"), "{kind}");
        let bedrock = PROVIDER.replace("kind = \"openai\"", "kind = \"bedrock\"");
        let no_region = check(&bedrock).unwrap_err();
        assert!(no_region.contains("needs region"), "{no_region}");
        check(&format!("{bedrock}region = \"us-east-1\"\n")).unwrap();
        let odd = check(&format!("{bedrock}region = \"us-east-1/x\"\n")).unwrap_err();
        assert!(odd.contains("region"), "{odd}");
        let keyless = check(&format!(
            "{}region = \"us-east-1\"\n",
            bedrock.replace("key = \"openai-prod\"\n", "")
        ))
        .unwrap_err();
        assert!(keyless.contains("needs key"), "{keyless}");
        let stray = check(&format!("{PROVIDER}region = \"us-east-1\"\n")).unwrap_err();
        assert!(stray.contains("bedrock\" only"), "{stray}");
        check(&PROVIDER.replace("kind = \"openai\"", "kind = \"gemini\"")).unwrap();
        let azure = PROVIDER.replace("kind = \"openai\"", "kind = \"azure-openai\"");
        let no_version = check(&azure).unwrap_err();
        assert!(no_version.contains("needs api_version"), "{no_version}");
        check(&format!("{azure}api_version = \"2024-10-21\"\n")).unwrap();
        let query = check(&format!("{azure}api_version = \"2024&x=1\"\n")).unwrap_err();
        assert!(query.contains("api_version"), "{query}");
        let stray = check(&format!("{PROVIDER}api_version = \"2024-10-21\"\n")).unwrap_err();
        assert!(stray.contains("azure-openai\" only"), "{stray}");
        check(&format!("{PROVIDER}stream_usage = false\n")).unwrap();
        let gemini_usage = check(&format!(
            "{}stream_usage = false\n",
            PROVIDER.replace("kind = \"openai\"", "kind = \"gemini\"")
        ))
        .unwrap_err();
        assert!(gemini_usage.contains("stream_usage"), "{gemini_usage}");
        let orphan = check(&format!(
            "{PROVIDER}[[aigw.models]]\nname = \"fast\"\nprovider = \"nobody\"\n"
        ))
        .unwrap_err();
        assert!(orphan.contains("not in aigw.providers"), "{orphan}");
        let twice = check(&format!(
            "{PROVIDER}[[aigw.models]]\nname = \"a\"\nprovider = \"openai\"\naliases = [\"a\"]\n"
        ))
        .unwrap_err();
        assert!(twice.contains("used twice"), "{twice}");
        let profile = check("[aigw]\ndlp_profile = \"nope\"\n").unwrap_err();
        assert!(
            profile.starts_with("2:1: ") && profile.contains("financial"),
            "{profile}"
        );
        check("[aigw]\ndlp_profile = \"financial\"\non_match = \"redact\"\n").unwrap();
        let answers = check("[aigw]\nresponse_dlp = \"block\"\n").unwrap_err();
        assert!(
            answers.starts_with("2:1: ") && answers.contains("response_dlp_profile"),
            "{answers}"
        );
        let answers = check("[aigw]\nresponse_dlp = \"redact\"\nresponse_dlp_profile = \"nope\"\n")
            .unwrap_err();
        assert!(answers.starts_with("3:1: "), "{answers}");
        check("[aigw]\nresponse_dlp = \"monitor\"\nresponse_dlp_profile = \"credentials\"\n")
            .unwrap();
        check("[aigw]\ndlp_profile = \"financial\"\nresponse_dlp = \"block\"\n").unwrap();
        let price = |extra: &str| {
            format!("{PROVIDER}[[aigw.prices]]\nprovider = \"openai\"\nmodel = \"gpt-4o\"\ninput = 1.0\noutput = 2.0\n{extra}")
        };
        check(&price("cached_input = 0.5\nchecked = \"2025-06-01\"\n")).unwrap();
        for bad in [
            "cached_input = -0.5",
            "reasoning = nan",
            "cache_write = inf",
            "per_request = 1e9",
        ] {
            let text = price(&format!("{bad}\n"));
            let error = check(&text).unwrap_err();
            let key = bad.split(' ').next().unwrap();
            assert!(error.contains("is not a price"), "{bad}: {error}");
            let line = text.lines().position(|l| l.starts_with(key)).unwrap() + 1;
            assert!(
                error.starts_with(&format!("{line}:")),
                "{bad} points at its line: {error}"
            );
        }
        let error = check(&price("checked = \"last week\"\n")).unwrap_err();
        assert!(error.contains("YYYY-MM-DD"), "{error}");
        let error = check(&price("").replace(
            "provider = \"openai\"\nmodel",
            "provider = \"nobody\"\nmodel",
        ))
        .unwrap_err();
        assert!(error.contains("not in aigw.providers"), "{error}");
        assert!(
            check(&price("colour = 1\n")).is_err(),
            "unknown keys are refused"
        );
        assert!(check("[aigw]\nlisten = \"127.0.0.1:0\"\nunknown = 1\n").is_err());
    }
}
