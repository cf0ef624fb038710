//! "Prices changed: reload, don't restart" (issue 19): `[[aigw.prices]]` edited and the
//! daemon sent SIGHUP — the next call made with the official `openai` SDK is costed with the
//! new price; a price that is not one is refused on reload, the log says why, and calls keep
//! the prices in force. A virtual key created meanwhile works without any reload.

use std::time::{Duration, Instant};

use crate::aigw::{field, plan, AiGateway};

const PRICE: &str = "[[aigw.prices]]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\n\
     input = 1.0\noutput = 2.0\nchecked = \"2026-12-01\"\n";

/// The cost (µ$) the gateway logged for one SDK call with `key`.
fn call_cost(gw: &AiGateway, key: &str) -> u64 {
    let results = gw.clients(vec![plan("openai", key, "gpt-4o-mini", "Say bonjour")]);
    assert_eq!(results[0]["ok"], true, "{}", results[0]);
    let id = results[0]["request_id"].as_str().unwrap();
    field(&gw.call_line(id), "cost_micro_usd").parse().unwrap()
}

fn wait_for_log(gw: &AiGateway, text: &str, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while gw.log().matches(text).count() < count {
        assert!(Instant::now() < deadline, "no {text:?} in\n{}", gw.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sighup_reloads_the_price_table_and_a_bad_price_keeps_the_one_in_force() {
    let mut gw = AiGateway::start_with(&format!(
        "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n{PRICE}"
    ));
    let key = gw.virtual_key(&["--name", "k", "--user", "ops"]);
    // The mock reports 21 prompt tokens (5 cached, at the input price when no cached price
    // is given) and 9 completion tokens: 21 × $1 + 9 × $2 per million = 39 µ$.
    assert_eq!(call_cost(&gw, &key), 39);

    let config_path = gw.dir.path().join("gatewayd.toml");
    let config = std::fs::read_to_string(&config_path).unwrap();
    let dearer = config.replace("input = 1.0\noutput = 2.0", "input = 10.0\noutput = 20.0");
    assert_ne!(dearer, config);
    std::fs::write(&config_path, &dearer).unwrap();
    gw.signal("HUP");
    wait_for_log(&gw, "aigw: price table reloaded", 1);
    assert_eq!(
        call_cost(&gw, &key),
        390,
        "the new price, without a restart"
    );

    // A price that is not one: the reload is refused with the reason, the prices stay.
    std::fs::write(
        &config_path,
        dearer.replace("input = 10.0", "input = -10.0"),
    )
    .unwrap();
    gw.signal("HUP");
    wait_for_log(&gw, "configuration reload refused", 1);
    let log = gw.log();
    let refusal = log
        .lines()
        .find(|l| l.contains("configuration reload refused"))
        .unwrap();
    assert!(
        refusal.contains("is not a price"),
        "the log says why: {refusal}"
    );
    assert_eq!(call_cost(&gw, &key), 390, "the prices in force are kept");
    assert_eq!(log.matches("aigw: price table reloaded").count(), 1);

    // Virtual keys need no reload: one created now (the file fixed, so the command line
    // reads it; no SIGHUP) works at once.
    std::fs::write(&config_path, &dearer).unwrap();
    let fresh = gw.virtual_key(&["--name", "fresh", "--user", "ops"]);
    assert_eq!(call_cost(&gw, &fresh), 390);
}
