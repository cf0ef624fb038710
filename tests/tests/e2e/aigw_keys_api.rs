//! "The same over the admin API" for the AI gateway's keys (issue 19): with curl and a
//! key_admin bearer token, `/api/v1/aigw/virtual-keys` creates a key (its secret answered
//! once), the official `openai` SDK calls the gateway with it, and after `revoke` the SDK
//! gets 401; `/api/v1/aigw/provider-keys` adds, rotates and deletes a provider key. Every
//! change is in the admin audit trail under the token's name.
//!
//! Attacks: an analyst token is refused every key endpoint (403, nothing changed); a body
//! that is not JSON is a 415 and a malformed one a 400 that never quotes what was sent; no
//! provider key value is in any answer, list, error, audit entry or the gateway's log.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::aigw::{plan, AiGateway};
use crate::aigw_dashboard::{admin_addr, token};
use crate::support::curl::{curl, CurlResult};

const NO_EVENTS: &str = "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n";
const ADDED: &str = "gsk_ApiAddedProviderKey7mQ2wE9rT4yU1iO6pA3s";
const ROTATED: &str = "gsk_ApiRotatedProviderKey5zX8cV1bN4mL7kJ0hG";
/// A value pasted into the wrong field: it must not come back in the error.
const MISPLACED: &str = "sk-proj-MisplacedValue3hK9wQ2eR7tY4uI1oP";

fn api(admin: &str, token: &str, method: &str, path: &str, body: Option<&Value>) -> CurlResult {
    let url = format!("http://{admin}/api/v1/aigw/{path}");
    let auth = format!("Authorization: Bearer {token}");
    let mut args = vec!["-X", method, "-H", auth.as_str()];
    let text = body.map(Value::to_string);
    if let Some(text) = &text {
        args.extend([
            "-H",
            "content-type: application/json",
            "--data-binary",
            text,
        ]);
    }
    args.push(&url);
    curl(&args)
}

fn json_of(r: &CurlResult) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|_| panic!("not JSON: {}", r.body_text()))
}

#[test]
fn key_admins_manage_virtual_and_provider_keys_over_the_api_and_analysts_cannot() {
    let mut gw = AiGateway::start_with(NO_EVENTS);
    let admin = admin_addr(&gw);
    let keys_bot = token(&mut gw, "key_admin", "keys-bot");
    let analyst = token(&mut gw, "analyst", "ana");
    let root = token(&mut gw, "admin", "root");
    // The daemon reads a new token's file within a second.
    let deadline = Instant::now() + Duration::from_secs(10);
    while api(&admin, &keys_bot, "GET", "virtual-keys", None).status != 200 {
        assert!(
            Instant::now() < deadline,
            "the key_admin token never worked"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut seen = String::new();

    // Virtual keys: create (secret once), use, list, revoke.
    let created = api(
        &admin,
        &keys_bot,
        "POST",
        "virtual-keys",
        Some(
            &json!({"name": "ci-bot", "user": "erin", "team": "ml", "models": ["gpt-4o-mini"], "expires": "30d"}),
        ),
    );
    assert_eq!(created.status, 201, "{}", created.body_text());
    let created = json_of(&created);
    let secret = created["secret"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(secret.starts_with("wvk_"), "{created}");
    let call = gw.clients(vec![plan("openai", &secret, "gpt-4o-mini", "hello")]);
    assert_eq!(call[0]["ok"], true, "{}", call[0]);
    let listed = api(&admin, &keys_bot, "GET", "virtual-keys", None);
    assert_eq!(listed.status, 200);
    let listed_text = listed.body_text();
    let row = json_of(&listed)["virtual_keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{listed_text}"));
    assert_eq!(
        (&row["user"], &row["team"]),
        (&json!("erin"), &json!("ml")),
        "{row}"
    );
    assert_eq!(row["models"], json!(["gpt-4o-mini"]), "{row}");
    assert!(row["expires_unix_ms"].is_u64(), "{row}");
    assert!(
        !listed_text.contains(&secret),
        "the list never shows a secret"
    );

    // The analyst: every key endpoint is a 403, and nothing changes.
    for (method, path, body) in [
        ("GET", "virtual-keys", None),
        (
            "POST",
            "virtual-keys",
            Some(json!({"name": "x", "user": "mallory"})),
        ),
        ("POST", &format!("virtual-keys/{id}/revoke") as &str, None),
        ("GET", "provider-keys", None),
        (
            "POST",
            "provider-keys",
            Some(json!({"name": "evil", "provider": "openai", "value": ADDED})),
        ),
        (
            "POST",
            "provider-keys/openai-prod/rotate",
            Some(json!({"value": ROTATED})),
        ),
        ("DELETE", "provider-keys/openai-prod", None),
    ] {
        let r = api(&admin, &analyst, method, path, body.as_ref());
        assert_eq!(r.status, 403, "{method} {path}: {}", r.body_text());
        assert!(r.body_text().contains("key_admin"), "{}", r.body_text());
        seen.push_str(&r.body_text());
    }
    let call = gw.clients(vec![plan("openai", &secret, "gpt-4o-mini", "still works")]);
    assert_eq!(
        call[0]["ok"], true,
        "the analyst revoked nothing: {}",
        call[0]
    );

    let revoked = api(
        &admin,
        &keys_bot,
        "POST",
        &format!("virtual-keys/{id}/revoke"),
        None,
    );
    assert_eq!(revoked.status, 200, "{}", revoked.body_text());
    assert_eq!(json_of(&revoked)["revoked"]["name"], "ci-bot");
    let call = gw.clients(vec![plan("openai", &secret, "gpt-4o-mini", "hello")]);
    assert_eq!(
        (&call[0]["ok"], &call[0]["status"]),
        (&json!(false), &json!(401)),
        "{}",
        call[0]
    );
    let again = api(
        &admin,
        &keys_bot,
        "POST",
        "virtual-keys/vk_nope/revoke",
        None,
    );
    assert_eq!(again.status, 404, "{}", again.body_text());

    // Provider keys: add, list, rotate, delete; never a value back.
    let added = api(
        &admin,
        &keys_bot,
        "POST",
        "provider-keys",
        Some(&json!({"name": "groq-api", "provider": "openai", "value": ADDED})),
    );
    assert_eq!(added.status, 201, "{}", added.body_text());
    assert_eq!(json_of(&added)["provider_key"]["version"], 1);
    seen.push_str(&added.body_text());
    let dup = api(
        &admin,
        &keys_bot,
        "POST",
        "provider-keys",
        Some(&json!({"name": "groq-api", "provider": "openai", "value": ADDED})),
    );
    assert_eq!(dup.status, 400, "{}", dup.body_text());
    seen.push_str(&dup.body_text());
    let rotated = api(
        &admin,
        &keys_bot,
        "POST",
        "provider-keys/groq-api/rotate",
        Some(&json!({"value": ROTATED, "grace": "1h"})),
    );
    assert_eq!(rotated.status, 200, "{}", rotated.body_text());
    let row = json_of(&rotated)["provider_key"].clone();
    assert_eq!(row["version"], 2, "{row}");
    assert!(
        row["fingerprint"].as_str().unwrap().starts_with("sha256:"),
        "{row}"
    );
    seen.push_str(&rotated.body_text());
    let listed = api(&admin, &keys_bot, "GET", "provider-keys", None);
    let names: Vec<String> = json_of(&listed)["provider_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        names.contains(&"groq-api".to_string()) && names.contains(&"openai-prod".to_string()),
        "{names:?}"
    );
    seen.push_str(&listed.body_text());
    let deleted = api(&admin, &keys_bot, "DELETE", "provider-keys/groq-api", None);
    assert_eq!(deleted.status, 200, "{}", deleted.body_text());
    // A key a configured provider calls with: 409 naming it, unless forced.
    let in_use = api(
        &admin,
        &keys_bot,
        "DELETE",
        "provider-keys/openai-prod",
        None,
    );
    assert_eq!(in_use.status, 409, "{}", in_use.body_text());
    assert!(
        in_use.body_text().contains("providers openai")
            && in_use.body_text().contains("force=true"),
        "{}",
        in_use.body_text()
    );
    assert!(gw.cli(&["keys", "list"], "").contains("openai-prod"));
    let listed = api(&admin, &keys_bot, "GET", "provider-keys", None);
    assert!(
        !listed.body_text().contains("groq-api"),
        "{}",
        listed.body_text()
    );

    // Bad bodies: clear refusals that never quote what was sent.
    let url = format!("http://{admin}/api/v1/aigw/provider-keys");
    let auth = format!("Authorization: Bearer {keys_bot}");
    let form = curl(&[
        "-H",
        &auth,
        "-d",
        &format!("name=x&provider=openai&value={ADDED}"),
        &url,
    ]);
    assert_eq!(form.status, 415, "{}", form.body_text());
    let misplaced = api(
        &admin,
        &keys_bot,
        "POST",
        "virtual-keys",
        Some(&json!({"name": "x", "user": "y", "models": MISPLACED})),
    );
    assert_eq!(misplaced.status, 400, "{}", misplaced.body_text());
    let wrong_type = api(
        &admin,
        &keys_bot,
        "POST",
        "provider-keys",
        Some(&json!({"name": "x", "provider": "openai", "value": [MISPLACED]})),
    );
    assert_eq!(wrong_type.status, 400, "{}", wrong_type.body_text());
    let unknown = api(
        &admin,
        &keys_bot,
        "POST",
        "virtual-keys",
        Some(&json!({"name": "x", "user": "y", "role": "admin"})),
    );
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.body_text().contains("unknown field `role`"),
        "{}",
        unknown.body_text()
    );
    for r in [&form, &misplaced, &wrong_type, &unknown] {
        seen.push_str(&r.body_text());
    }

    // The audit trail names the token for each change.
    let audit = curl(&[
        "-H",
        &format!("Authorization: Bearer {root}"),
        &format!("http://{admin}/api/v1/audit"),
    ]);
    assert_eq!(audit.status, 200, "{}", audit.body_text());
    let audit_text = audit.body_text();
    let by_bot = json_of(&audit)["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "token:keys-bot")
        .count();
    assert!(
        by_bot >= 5,
        "create, revoke, add, rotate, delete: {audit_text}"
    );
    seen.push_str(&audit_text);
    seen.push_str(&gw.log());
    for value in [ADDED, ROTATED, MISPLACED, crate::aigw::OPENAI_KEY] {
        assert!(!seen.contains(value), "a key value came back: {value}");
    }
    assert!(!audit_text.contains(&secret) && !gw.log().contains(&secret));
}
