//! `gatewayd check`: everything `run` would refuse — config, users file, roots, policy and
//! catalog files — reported without starting anything. Unknown app ids are warnings.

use std::path::Path;

use config::load_config;
use proxy::gateway::Snapshot;

/// Returns the process exit code: 0 valid, 2 invalid.
pub fn run_check(path: Option<&Path>) -> i32 {
    let config = match load_config(path) {
        Ok((config, _)) => config,
        Err(error) => {
            eprintln!("{error}");
            return 2;
        }
    };
    // Building a snapshot loads the users file and extra roots exactly as `run` does; it needs
    // a runtime for the resolver.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("cannot start a runtime: {error}");
            return 2;
        }
    };
    let built = runtime.block_on(async { Snapshot::build(config, 1) });
    match built {
        Ok(snapshot) => {
            for warning in &snapshot.policy_warnings {
                eprintln!("{warning}");
            }
            if snapshot.config.clickhouse.reader_user.is_none() {
                eprintln!("warning: {}", report::clickhouse_http::NO_READER_WARNING);
            }
            // Every check runs before "ok" is printed: a reader of stdout alone must not see
            // "ok" from a config that then fails.
            let aigw = match check_aigw(&snapshot.config) {
                Ok(line) => line,
                Err(error) => {
                    eprintln!("{error}");
                    return 2;
                }
            };
            out!(
                "ok: {}",
                path.map(|p| p.display().to_string())
                    .unwrap_or_else(|| "<embedded defaults>".into())
            );
            out!(
                "policy {} with {} rules; catalog of {} apps",
                snapshot.policy.version(),
                snapshot.policy.rule_ids().count(),
                snapshot.catalog.apps().len()
            );
            out!("{}", explain_events(&snapshot.config));
            out!("{}", explain_egress(&snapshot.config));
            out!("{aigw}");
            0
        }
        Err(error) => {
            eprintln!("{error}");
            2
        }
    }
}

/// One line on where the gateway may connect for users, so an operator sees the policy's
/// effect (the defaults refuse everything but public addresses on 80 and 443).
fn explain_egress(config: &config::Config) -> String {
    let egress = &config.egress;
    let mut ports = vec!["80".to_string(), "443".to_string()];
    ports.extend(egress.allow_ports.iter().map(ToString::to_string));
    let mut allowed: Vec<String> = egress
        .allow_networks
        .iter()
        .map(ToString::to_string)
        .collect();
    allowed.extend(egress.allow_hosts.iter().cloned());
    let internal = if allowed.is_empty() {
        "no private addresses".to_string()
    } else {
        format!("private addresses only of {}", allowed.join(", "))
    };
    format!(
        "egress: ports {}; public addresses, {internal}; never loopback, link-local or this \
         machine ({} upstream.connect_to entries exempt)",
        ports.join(", "),
        config.upstream.connect_to.len()
    )
}

/// Where events go (and where the reports read from): a user must be able to see that a
/// config writes into a ClickHouse before running it.
fn explain_events(config: &config::Config) -> String {
    let clickhouse = &config.clickhouse;
    // A URL may carry `user:password@`; that never goes to a terminal.
    let url = match clickhouse.url.split_once("://") {
        Some((scheme, rest)) => {
            let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
            match authority.rfind('@') {
                Some(at) => format!("{scheme}://…@{}", &rest[at + 1..]),
                None => clickhouse.url.clone(),
            }
        }
        None => clickhouse.url.clone(),
    };
    let to = format!("ClickHouse at {url} (database {})", clickhouse.database);
    if config.events.enabled {
        format!("events: written to {to}; reports read from it")
    } else {
        format!("events: off ([events] enabled = false); reports read from {to}")
    }
}

/// The AI gateway's part of the check: what `run` would need to start it — the master key
/// (where `keys.master_key` points, with its file mode) and every provider's key in the store.
fn check_aigw(config: &config::Config) -> Result<String, String> {
    let aigw = &config.aigw;
    let Some(listen) = aigw.listen else {
        return Ok(match &aigw.host {
            Some(host) => format!(
                "aigw: off ([aigw] listen unset); {host} answers through the proxy that it is off"
            ),
            None => "aigw: off ([aigw] listen unset)".to_string(),
        });
    };
    let access = check_aigw_access(aigw)?;
    let source = keystore::MasterKeySource::parse(&config.keys.master_key)
        .map_err(|e| format!("[aigw]: {e}"))?;
    let master = keystore::KeyStore::master_for(&config.state.dir, &source)
        .map_err(|e| format!("[aigw] needs the provider keys: {e}"))?;
    let store = keystore::KeyStore::open(&config.state.dir, master)
        .map_err(|e| format!("[aigw] needs the provider keys: {e}"))?;
    let stored: Vec<String> = store.list().into_iter().map(|k| k.name).collect();
    for provider in &aigw.providers {
        if let Some(key) = &provider.key {
            if !stored.contains(key) {
                return Err(format!(
                    "[aigw] provider {:?} names key {key:?}, which is not in the key store \
                     (gatewayd keys add {key} --provider ...)",
                    provider.name
                ));
            }
        }
    }
    let plural = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    Ok(format!(
        "aigw: listening on {listen}; {}, {}; their keys are in the store{access}",
        plural(aigw.providers.len(), "provider"),
        plural(aigw.models.len(), "model")
    ))
}

/// TLS (a cert/key pair is read and matched now; minted names are minted at start) and the
/// proxy path, in words.
fn check_aigw_access(aigw: &config::AigwConfig) -> Result<String, String> {
    let mut out = String::new();
    match &aigw.tls {
        Some(tls) if tls.names.is_empty() => {
            aigw::tls::server_config(tls, None)?;
            out.push_str("; TLS with the configured cert and key");
        }
        Some(tls) => {
            out.push_str(&format!(
                "; TLS with certificates minted by Warden's CA for {}",
                tls.names.join(", ")
            ));
        }
        None => out.push_str("; plain HTTP"),
    }
    if let Some(host) = &aigw.host {
        let who = if aigw.identity.allow {
            "proxy users and enrolled devices may call without a virtual key"
        } else {
            "callers need a virtual key"
        };
        out.push_str(&format!(
            "; served as https://{host} through the proxy and the agent ({who})"
        ));
    }
    Ok(out)
}
