//! Device posture: what the device is and what state it is in, as far as the OS tells. Every
//! field is a short string; what cannot be determined is `"unknown"`, never a guess.
//!
//! Fields: `os`, `os_name`, `os_version`, `kernel`, `hostname`, `user`, `agent_version`,
//! `disk_encrypted`, `firewall`, `screen_lock`. A posture file (JSON object) may add or
//! override fields: facts an MDM or management script knows better.
//!
//! All of it is what the device says about itself; the gateway treats it so. A posture the
//! gateway should believe comes signed by an MDM ([`read_signed`]), and the agent only carries
//! it: it never reads, changes or vouches for what it forwards.

use std::path::Path;

/// Field → value, ordered (so equal postures compare and print the same).
pub use agent_proto::posture::Posture;

const UNKNOWN: &str = "unknown";

/// Collects the posture now; `overrides` is the optional posture file.
pub fn collect(overrides: Option<&Path>) -> Posture {
    let mut p = Posture::new();
    p.insert("os".into(), std::env::consts::OS.into());
    p.insert("agent_version".into(), env!("CARGO_PKG_VERSION").into());
    p.insert("user".into(), logged_in_user());
    platform::collect(&mut p);
    if let Some(path) = overrides {
        match read_overrides(path) {
            Ok(extra) => p.extend(extra),
            Err(error) => tracing::warn!(%error, "posture file ignored"),
        }
    }
    for value in p.values_mut() {
        *value = clean(value);
    }
    p
}

/// Largest signed posture envelope the agent forwards: the gateway's limit.
const MAX_SIGNED_POSTURE: u64 = agent_proto::posture::MAX_SIGNED_BODY as u64;

/// Reads the MDM's signed posture envelope: a JSON object, forwarded as is.
pub fn read_signed(path: &Path) -> anyhow::Result<serde_json::Value> {
    use std::io::Read;
    let mut text = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_SIGNED_POSTURE + 1)
        .read_to_end(&mut text)?;
    if text.len() as u64 > MAX_SIGNED_POSTURE {
        anyhow::bail!("larger than {MAX_SIGNED_POSTURE} bytes");
    }
    let value: serde_json::Value = serde_json::from_slice(&text)?;
    if !value.is_object() {
        anyhow::bail!("not a JSON object");
    }
    Ok(value)
}

fn read_overrides(path: &Path) -> anyhow::Result<Posture> {
    let text = std::fs::read_to_string(path)?;
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)?;
    Ok(map
        .into_iter()
        .filter_map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => return None,
            };
            Some((k, text))
        })
        .collect())
}

/// Values travel as `key=value;...` in events: keep them short and free of separators.
fn clean(value: &str) -> String {
    let cleaned: String = value
        .trim()
        .chars()
        .filter(|c| !matches!(c, ';' | '\n' | '\r') && !c.is_control())
        .take(200)
        .collect();
    if cleaned.is_empty() {
        UNKNOWN.into()
    } else {
        cleaned
    }
}

fn logged_in_user() -> String {
    ["SUDO_USER", "USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| UNKNOWN.into())
}

#[cfg(target_os = "linux")]
mod platform {
    use super::{Posture, UNKNOWN};
    use std::fs;
    use std::path::Path;

    pub fn collect(p: &mut Posture) {
        let release = fs::read_to_string("/etc/os-release").unwrap_or_default();
        let field = |name: &str| {
            release.lines().find_map(|l| {
                l.strip_prefix(name)
                    .and_then(|r| r.strip_prefix('='))
                    .map(|v| v.trim_matches('"').to_owned())
            })
        };
        p.insert(
            "os_name".into(),
            field("NAME").unwrap_or_else(|| UNKNOWN.into()),
        );
        p.insert(
            "os_version".into(),
            field("VERSION_ID").unwrap_or_else(|| UNKNOWN.into()),
        );
        let read = |path: &str| {
            fs::read_to_string(path)
                .map(|s| s.trim().to_owned())
                .unwrap_or_else(|_| UNKNOWN.into())
        };
        p.insert("kernel".into(), read("/proc/sys/kernel/osrelease"));
        p.insert("hostname".into(), read("/proc/sys/kernel/hostname"));
        p.insert("disk_encrypted".into(), root_encrypted().into());
        p.insert("firewall".into(), firewall().into());
        // No reliable way to read a desktop's lock setting from a headless service.
        p.insert("screen_lock".into(), UNKNOWN.into());
    }

    /// Whether the root file system sits on dm-crypt (directly, or under LVM).
    fn root_encrypted() -> &'static str {
        let Ok(mounts) = fs::read_to_string("/proc/self/mounts") else {
            return UNKNOWN;
        };
        let Some(device) = mounts.lines().find_map(|l| {
            let mut parts = l.split_whitespace();
            let dev = parts.next()?;
            (parts.next()? == "/").then(|| dev.to_owned())
        }) else {
            return UNKNOWN;
        };
        if !device.starts_with("/dev/") {
            // overlay, tmpfs, a container's root: the disk underneath is not visible here.
            return UNKNOWN;
        }
        let Ok(real) = fs::canonicalize(&device) else {
            return UNKNOWN;
        };
        let Some(name) = real.file_name().and_then(|n| n.to_str()) else {
            return UNKNOWN;
        };
        if dm_crypt(name, 0) {
            "true"
        } else {
            "false"
        }
    }

    fn dm_crypt(name: &str, depth: u8) -> bool {
        if depth > 4 {
            return false;
        }
        let base = Path::new("/sys/class/block").join(name);
        let uuid = fs::read_to_string(base.join("dm/uuid")).unwrap_or_default();
        if uuid.starts_with("CRYPT-") {
            return true;
        }
        fs::read_dir(base.join("slaves"))
            .map(|entries| {
                entries.flatten().any(|e| {
                    e.file_name()
                        .to_str()
                        .is_some_and(|n| dm_crypt(n, depth + 1))
                })
            })
            .unwrap_or(false)
    }

    /// Whether packet filtering rules are loaded (iptables tables or an nftables ruleset).
    fn firewall() -> &'static str {
        let iptables = fs::read_to_string("/proc/net/ip_tables_names")
            .map(|s| !s.trim().is_empty())
            .unwrap_or(false);
        if iptables {
            return "true";
        }
        let nft = std::process::Command::new("nft")
            .args(["list", "tables"])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output();
        match nft {
            Ok(out) if out.status.success() => {
                if out.stdout.is_empty() {
                    "false"
                } else {
                    "true"
                }
            }
            _ => UNKNOWN,
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod platform {
    use super::{Posture, UNKNOWN};

    pub fn collect(p: &mut Posture) {
        for field in [
            "os_name",
            "os_version",
            "kernel",
            "hostname",
            "disk_encrypted",
            "firewall",
            "screen_lock",
        ] {
            p.insert(field.into(), UNKNOWN.into());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn collects_every_field_and_applies_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.json");
        std::fs::write(&file, r#"{"disk_encrypted": true, "managed": "yes;x"}"#).unwrap();
        let p = collect(Some(&file));
        for field in [
            "os",
            "kernel",
            "hostname",
            "user",
            "agent_version",
            "firewall",
            "screen_lock",
        ] {
            assert!(p.contains_key(field), "{field} missing: {p:?}");
        }
        assert_eq!(p["disk_encrypted"], "true");
        assert_eq!(p["managed"], "yesx");
    }
}
