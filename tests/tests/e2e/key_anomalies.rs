//! The AI key inventory's anomalies and filters (issue 21): a key suddenly used from a new
//! country and a key used by many people show on the Anomalies page, the anomalies and
//! ai-keys reports (API and CLI); the user and group filters narrow the inventory to the keys
//! those people used; and a key sent to a host known as AI only from its request body (a
//! discovered chat app) is counted, while a key sent to a host that is not AI is not.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::discovered::CHAT_BODY;
use crate::report::{api, start, ReportSetup};
use crate::support::curl;
use crate::support::gateway::gatewayd;
use crate::support::report_data::insert;

const TRAVELLER: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1";
const PASSED_AROUND: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2";
/// A token of no provider's format (it alone makes no host AI) sent to a chat app outside
/// the catalog.
const BODY_KEY: &str = "e2e-session-token-7Hq2Zx9LmW4KpR8t";

fn key_event(ts: i64, user: &str, groups: &[&str], country: &str, fingerprint: &str) -> Value {
    json!({
        "ts": ts, "request_id": format!("key-{fingerprint}-{ts}-{user}-{country}"),
        "user": user, "groups": groups, "country": country, "src_ip": "10.0.0.9",
        "host": "api.openai.com", "app_id": "openai-api", "method": "POST",
        "path": "/v1/chat/completions", "status": 200, "action": "allow",
        "ai_key_fingerprint": fingerprint, "ai_key_provider": "openai",
        "ai_key_kind": "project", "ai_key_last4": &fingerprint[28..],
    })
}

fn wait_for(s: &ReportSetup, path: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, value) = api(&s.gw, &s.analyst, path);
        if status == 200 && ready(&value) {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "{path} never had it: {status} {value}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn find<'a>(list: &'a Value, kind: &str, fingerprint: &str) -> Option<&'a Value> {
    list.as_array()?
        .iter()
        .find(|a| a["kind"] == kind && a["fingerprint"] == fingerprint)
}

fn fingerprints(report: &Value) -> Vec<String> {
    report["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["fingerprint"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn key_anomalies_filters_and_keys_on_discovered_hosts() {
    let s = start();
    let url = s.clickhouse.http_url();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let hour_ago = now - 3_600;
    insert(
        &url,
        "http_events",
        &[
            // Used from the US for weeks, then from KP today.
            key_event(now - 20 * 86_400, "alice", &["eng"], "US", TRAVELLER),
            key_event(hour_ago, "alice", &["eng"], "US", TRAVELLER),
            key_event(hour_ago, "alice", &["eng"], "KP", TRAVELLER),
            // Three people on one key today.
            key_event(hour_ago, "carol", &["finance"], "US", PASSED_AROUND),
            key_event(hour_ago, "dave", &["sales"], "US", PASSED_AROUND),
            key_event(hour_ago, "erin", &["sales"], "US", PASSED_AROUND),
        ],
    );

    let anomalies = wait_for(&s, "/api/v1/report/anomalies?since=24h", |v| {
        find(&v["anomalies"], "key_many_users", PASSED_AROUND).is_some()
    });
    let found = &anomalies["anomalies"];
    let country = find(found, "key_new_country", TRAVELLER).expect("new country");
    assert_eq!(country["country"], "KP", "{country}");
    assert_eq!(country["last4"], &TRAVELLER[28..]);
    let many = find(found, "key_many_users", PASSED_AROUND).unwrap();
    assert_eq!(many["value"], 3, "{many}");
    // The key used from the US before is not new there; one person is not many.
    assert!(found
        .as_array()
        .unwrap()
        .iter()
        .all(|a| !(a["kind"] == "key_new_country" && a["country"] == "US")));
    assert!(find(found, "key_many_users", TRAVELLER).is_none());

    // The ai-keys report: the same anomalies, and the user and group filters.
    let keys = wait_for(&s, "/api/v1/report/ai-keys?since=1d", |v| {
        v["keys"].as_array().is_some_and(|k| k.len() >= 2)
    });
    assert!(
        find(&keys["anomalies"], "key_new_country", TRAVELLER).is_some(),
        "{keys}"
    );
    assert_eq!(keys["routing"]["routed"], 0, "{keys}");
    let carol = wait_for(&s, "/api/v1/report/ai-keys?since=1d&user=carol", |_| true);
    assert_eq!(
        fingerprints(&carol),
        vec![PASSED_AROUND.to_string()],
        "{carol}"
    );
    // A key's counts stay the key's: carol's key has three users.
    assert_eq!(carol["keys"][0]["users"], 3, "{carol}");
    let eng = wait_for(&s, "/api/v1/report/ai-keys?since=1d&group=eng", |_| true);
    assert_eq!(fingerprints(&eng), vec![TRAVELLER.to_string()], "{eng}");
    let nobody = wait_for(&s, "/api/v1/report/ai-keys?since=1d&user=nobody", |_| true);
    assert!(fingerprints(&nobody).is_empty(), "{nobody}");
    assert_eq!(nobody["totals"]["active_keys"], 0, "{nobody}");
    let (code, out, err) = gatewayd(
        &s.gw,
        &[
            "report", "ai-keys", "--since", "1d", "--user", "carol", "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let cli: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(fingerprints(&cli), vec![PASSED_AROUND.to_string()], "{cli}");

    // The dashboard's Anomalies page says it in words.
    let jar = s._dir.path().join("cookies").display().to_string();
    let base = format!("http://{}", s.gw.admin);
    let login = curl(&[
        "-c",
        &jar,
        "-d",
        &format!("token={}", s.analyst),
        &format!("{base}/login"),
    ]);
    assert_eq!(login.status, 303);
    let page = curl(&["-b", &jar, &format!("{base}/anomalies?since=24h")]);
    assert_eq!(page.status, 200);
    let html = page.body_text();
    assert!(html.contains("key new country"), "{html}");
    assert!(html.contains("used by 3 people"), "{html}");
    let page = curl(&["-b", &jar, &format!("{base}/ai-keys?since=1d")]);
    assert!(
        page.body_text().contains("Key anomalies"),
        "{}",
        page.body_text()
    );

    // A chat app outside the catalog, known as AI only from its body: its key counts. The
    // same key shape sent to a host that is not AI does not.
    let root = s.gw.root_pem.display().to_string();
    let proxy = s.gw.proxy_url();
    let auth = format!("Authorization: Bearer {BODY_KEY}");
    for (url, body) in [
        ("https://chat.test/api/send", CHAT_BODY),
        (
            "https://origin.test/form",
            r#"{"name":"a form, not a prompt"}"#,
        ),
    ] {
        let sent = curl(&[
            "-x",
            &proxy,
            "--cacert",
            &root,
            "-H",
            &auth,
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            body,
            url,
        ]);
        assert!(sent.status < 500, "{url}: {} {}", sent.status, sent.stderr);
    }
    let last4 = &BODY_KEY[BODY_KEY.len() - 4..];
    let listed = wait_for(&s, "/api/v1/report/ai-keys?since=1d", |v| {
        v["keys"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k["last4"] == last4))
    });
    let key = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["last4"] == last4)
        .unwrap();
    assert_eq!(key["hosts"], 1, "only the AI host counts: {key}");
    // No provider's format: the discovered host names the provider.
    assert_eq!(key["provider"], "chat.test", "{key}");
    let rows = crate::support::clickhouse_sql(
        &url,
        "SELECT host FROM warden.http_events WHERE ai_key_last4 != '' AND host IN \
         ('chat.test', 'origin.test') FORMAT TSV",
    );
    assert_eq!(rows.body_text().trim(), "chat.test", "{}", rows.body_text());
    assert!(!s.gw.log().contains(BODY_KEY));
}
