//! "I stop and restart the gateway after a change": with the AI gateway on and events going to
//! ClickHouse, SIGTERM ends gatewayd within its drain (it used to wait forever for the AI
//! gateway's handle on the event queue, holding the spool lock, so the next start failed),
//! the call made before is in `ai_requests`, and the next start succeeds at once.

use std::time::{Duration, Instant};

use schema::testkit::ClickHouseServer;

use crate::aigw::{plan, AiGateway};
use crate::support::clickhouse_sql;

#[test]
fn sigterm_stops_a_gateway_with_the_ai_gateway_and_events_on_and_it_starts_again() {
    let clickhouse = ClickHouseServer::start().expect("clickhouse-server starts");
    let mut gw = AiGateway::start_with(&format!(
        "[clickhouse]\nurl = \"{}\"\ndatabase = \"warden\"\n\
         [events]\nflush_interval = \"200ms\"\ninsert_timeout = \"3s\"\n",
        clickhouse.http_url()
    ));
    let key = gw.virtual_key(&["--name", "app", "--user", "mia", "--team", "marketing"]);
    let answers = gw.clients(vec![plan("openai", &key, "gpt-4o-mini", "Say bonjour")]);
    assert!(answers.iter().all(|r| r["ok"] == true), "{answers:#?}");

    let asked = Instant::now();
    gw.signal("TERM");
    assert!(
        gw.wait_exit(Duration::from_secs(20)),
        "gatewayd did not exit 20 s after SIGTERM:\n{}",
        gw.log()
    );
    assert!(gw.log().contains("gatewayd stopped"), "{}", gw.log());
    eprintln!("stopped {:?} after SIGTERM", asked.elapsed());

    // Nothing was lost on the way out: the call's row is in ClickHouse.
    let rows = clickhouse_sql(
        &clickhouse.http_url(),
        "SELECT count() FROM warden.ai_requests WHERE team = 'marketing'",
    );
    assert_eq!(rows.body_text().trim(), "1", "{}", rows.body_text());

    // The spool lock went with the process: the next start serves at once.
    gw.restart();
    let again = gw.clients(vec![plan("openai", &key, "gpt-4o-mini", "Say bonjour")]);
    assert!(again.iter().all(|r| r["ok"] == true), "{again:#?}");
}
