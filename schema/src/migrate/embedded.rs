//! The migrations this build knows: `schema/migrations/NNNN_name.sql`, embedded at compile
//! time. A test keeps this list and the directory in step.

use sha2::{Digest, Sha256};

use super::split;

/// One numbered migration. Every statement in it must be safe to run again
/// (`IF NOT EXISTS`): ClickHouse has no transactional DDL, so a migration that failed half-way
/// is resumed by running it again from the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// `sha256:` and the hex digest of the file's text, recorded when applied.
    pub fn checksum(&self) -> String {
        let digest = Sha256::digest(self.sql.as_bytes());
        let mut out = String::with_capacity(7 + 64);
        out.push_str("sha256:");
        for byte in digest {
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        out
    }

    /// The statements, in order (see `split` for the splitting rule).
    pub fn statements(&self) -> Vec<String> {
        split::statements(self.sql)
    }

    /// `NNNN_name`, the file's stem.
    pub fn label(&self) -> String {
        format!("{:04}_{}", self.version, self.name)
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

macro_rules! migration {
    ($version:literal, $name:literal, $file:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../../migrations/", $file)),
        }
    };
}

/// Every migration, in version order.
pub const MIGRATIONS: &[Migration] = &[
    migration!(1, "http_events", "0001_http_events.sql"),
    migration!(2, "dlp_findings", "0002_dlp_findings.sql"),
    migration!(3, "app_status_changes", "0003_app_status_changes.sql"),
    migration!(4, "app_usage_hourly", "0004_app_usage_hourly.sql"),
    migration!(5, "app_user_daily", "0005_app_user_daily.sql"),
    migration!(6, "dlp_findings_hourly", "0006_dlp_findings_hourly.sql"),
    migration!(7, "app_country_daily", "0007_app_country_daily.sql"),
    migration!(8, "user_daily", "0008_user_daily.sql"),
    migration!(9, "app_group_daily", "0009_app_group_daily.sql"),
    migration!(10, "app_device_daily", "0010_app_device_daily.sql"),
    migration!(11, "app_daily", "0011_app_daily.sql"),
    migration!(12, "ai_requests", "0012_ai_requests.sql"),
    migration!(13, "http_events_tenant", "0013_http_events_tenant.sql"),
    migration!(14, "ai_requests_access", "0014_ai_requests_access.sql"),
    migration!(15, "app_errors_hourly", "0015_app_errors_hourly.sql"),
    migration!(
        16,
        "ai_requests_response_dlp",
        "0016_ai_requests_response_dlp.sql"
    ),
    migration!(17, "ai_keys_seen", "0017_ai_keys_seen.sql"),
    migration!(18, "ai_requests_rollups", "0018_ai_requests_rollups.sql"),
    migration!(19, "ai_requests_routes", "0019_ai_requests_routes.sql"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_matches_the_migrations_directory() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS
            .iter()
            .map(|m| format!("{}.sql", m.label()))
            .collect();
        assert_eq!(files, listed);
    }

    #[test]
    fn versions_increase_by_one_and_every_file_has_statements() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "{}", m.label());
            assert!(!m.statements().is_empty(), "{} is empty", m.label());
        }
    }

    #[test]
    fn checksum_is_stable_hex() {
        let m = Migration {
            version: 1,
            name: "x",
            sql: "abc",
        };
        assert_eq!(
            m.checksum(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
