//! What the analyst reads has to be what happened (issue 24, the rest of bugs 4, 6 and 8):
//! an upstream that fails is an error, shown apart from blocks and linked to the failing
//! events; a blocked upload names the file that was stopped; the apps list under a country
//! filter shows the same uploads, DLP and devices as the app's own page. Real gatewayd, curl,
//! ClickHouse and headless Chromium, as the user would use them.

mod errors;
mod errors_upgrade;
mod filters;
mod overview;
mod uploads;
mod user_totals;

use std::time::{Duration, Instant};

use schema::testkit::ClickHouseServer;

use crate::report::{api, token};
use crate::support::{clickhouse_sql, GatewayOptions, GatewayProcess, Origin};

pub(super) struct Setup {
    pub _dir: tempfile::TempDir,
    pub _origin: Origin,
    pub clickhouse: ClickHouseServer,
    pub gw: GatewayProcess,
    pub admin: String,
    pub analyst: String,
}

/// ClickHouse, a gateway writing events to it with `policy` and extra `connect_to` entries,
/// and an admin and an analyst token the daemon already accepts.
pub(super) fn start(policy: &str, connect_to: Vec<(String, String)>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let policy_path = dir.path().join("policy.toml");
    std::fs::write(&policy_path, policy).unwrap();
    let sections = format!(
        "[clickhouse]\nurl = \"{}\"\ndatabase = \"warden\"\n\
         reader_user = \"{}\"\nreader_password = \"{}\"\n\n\
         [events]\nflush_interval = \"200ms\"\n\n\
         [policies]\nfiles = [\"{}\"]\n\n",
        clickhouse.http_url(),
        schema::testkit::READER_USER,
        schema::testkit::READER_PASSWORD,
        policy_path.display(),
    );
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections,
            connect_to,
            ..Default::default()
        },
    );
    let admin = token(&gw, "admin", "sec-team");
    let analyst = token(&gw, "analyst", "ana");
    let deadline = Instant::now() + Duration::from_secs(10);
    while api(&gw, &analyst, "/api/v1/apps").0 != 200 {
        assert!(
            Instant::now() < deadline,
            "the daemon did not load the tokens"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    Setup {
        _dir: dir,
        _origin: origin,
        clickhouse,
        gw,
        admin,
        analyst,
    }
}

/// `sql`'s answer once `ok` accepts it (events arrive in batches), within 15 s.
pub(super) fn wait_query(ch: &ClickHouseServer, sql: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let result = clickhouse_sql(&ch.http_url(), sql);
        assert_eq!(result.status, 200, "{sql}: {}", result.body_text());
        let text = result.body_text().trim().to_string();
        if ok(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "{sql}: last saw {text:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
