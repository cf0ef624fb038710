//! The phase end to end in-process: which rules a call falls under, what it reserves, and
//! what it settles to when it completes, fails before the provider, or is cut mid-stream.

use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::cost::cost;
use crate::dialect::Dialect;
use crate::routes::Provider;

fn setup(rules: &str) -> (Arc<Governor>, PriceTable, Caller, Route) {
    let config: AigwConfig = toml::from_str(&format!(
        "[[providers]]\nname = \"openai\"\nkind = \"openai\"\nbase_url = \"http://x/v1\"\n\
         [[prices]]\nprovider = \"openai\"\nmodel = \"m\"\ninput = 1.0\noutput = 2.0\n{rules}"
    ))
    .unwrap();
    let caller = Caller {
        key_id: "vk_1".into(),
        key_name: "app".into(),
        user: "ann".into(),
        team: Some("data".into()),
        models: Vec::new(),
        tags: vec!["a".into(), "b".into()],
    };
    let route = Route {
        provider: Arc::new(Provider {
            name: "openai".into(),
            kind: config::ProviderKind::Openai,
            dialect: Dialect::OpenAi,
            base_url: "http://x/v1".into(),
            key: None,
            api_version: None,
            region: None,
            stream_usage: true,
        }),
        asked: "m".into(),
        canonical: "openai/m".into(),
        upstream_model: "m".into(),
    };
    let g = Governor::new(&config).unwrap().unwrap();
    (g, PriceTable::new(&config).unwrap(), caller, route)
}

fn record() -> CallRecord {
    let mut r = CallRecord::new(
        "127.0.0.1:1".parse().unwrap(),
        Dialect::OpenAi,
        "chat_completions",
    );
    r.body_bytes = 100;
    r
}

fn reserved(g: &Governor) -> Vec<(String, u64, u64)> {
    g.store
        .snapshot(now_secs())
        .into_iter()
        .map(|c| (c.key, c.spent, c.reserved))
        .collect()
}

#[test]
fn a_call_reserves_its_most_on_every_scope_and_settles_to_what_was_reported() {
    let (g, prices, caller, route) = setup(
        "[[budgets]]\nname = \"team\"\nscope = \"team\"\nusd = 1.0\nwindow = \"day\"\n\
         [[budgets]]\nname = \"tags\"\nscope = \"tag\"\ntokens = 100000\nwindow = \"month\"\n\
         [[budgets]]\nname = \"other-team\"\nscope = \"team\"\nmatch = \"ops\"\nusd = 1.0\nwindow = \"day\"\n",
    );
    let mut body = json!({"model": "m", "max_tokens": 50, "messages": []});
    let mut rec = record();
    let admission = g
        .admit(&caller, &route, &mut body, &rec, &prices)
        .unwrap()
        .unwrap();
    // 100 input tokens at $1/M + 50 output at $2/M = 200 µ$; 150 tokens on each tag.
    assert_eq!(
        reserved(&g),
        vec![
            ("tags tokens tag:a".to_string(), 0, 150),
            ("tags tokens tag:b".to_string(), 0, 150),
            ("team usd team:data".to_string(), 0, 200),
        ]
    );
    rec.sent = true;
    rec.usage.input = 10;
    rec.usage.output = 5;
    rec.usage.reported = true;
    let price = prices.lookup(&route.provider, "m", None);
    admission.settle(&rec, &cost(&rec.usage, price, true));
    assert_eq!(
        reserved(&g),
        vec![
            ("tags tokens tag:a".to_string(), 15, 0),
            ("tags tokens tag:b".to_string(), 15, 0),
            ("team usd team:data".to_string(), 20, 0),
        ]
    );
}

#[test]
fn unsent_calls_settle_to_nothing_and_cut_ones_keep_their_reservation() {
    let (g, prices, caller, route) =
        setup("[[budgets]]\nname = \"all\"\nscope = \"all\"\ntokens = 10000\nwindow = \"day\"\n");
    let mut body = json!({"model": "m", "messages": []});
    let rec = record();
    let a = g
        .admit(&caller, &route, &mut body, &rec, &prices)
        .unwrap()
        .unwrap();
    assert_eq!(
        body["max_completion_tokens"], 4096,
        "the default cap is sent"
    );
    // DLP refused it: never sent, nothing spent.
    a.settle(&rec, &cost(&rec.usage, None, false));
    assert_eq!(reserved(&g)[0].1, 0);
    // Cut mid-stream without usage: the whole reservation (100 + 50) stands.
    let mut cut = record();
    let a = g
        .admit(
            &caller,
            &route,
            &mut json!({"max_tokens": 50}),
            &cut,
            &prices,
        )
        .unwrap()
        .unwrap();
    cut.sent = true;
    cut.status = 499;
    cut.error = Some("client_closed".into());
    a.settle(&cut, &cost(&cut.usage, None, true));
    assert_eq!(reserved(&g)[0].1, 150);
    // Dropped without settling (a bug elsewhere): charged in full, released all the same.
    drop(
        g.admit(
            &caller,
            &route,
            &mut json!({"max_tokens": 50}),
            &cut,
            &prices,
        )
        .unwrap(),
    );
    assert_eq!((reserved(&g)[0].1, reserved(&g)[0].2), (300, 0));
    // The next would pass 10000: refused, naming the budget and when it resets.
    let e = g
        .admit(
            &caller,
            &route,
            &mut json!({"max_tokens": 9700}),
            &cut,
            &prices,
        )
        .unwrap_err();
    let CallError::BudgetExceeded {
        message,
        retry_after,
        never: false,
    } = e
    else {
        panic!("{e:?}")
    };
    assert!(
        message.contains("\"all\"") && message.contains("resets at"),
        "{message}"
    );
    assert!((1..=86_400).contains(&retry_after));
}

#[test]
fn a_currency_budget_refuses_a_model_it_cannot_price() {
    let (g, prices, caller, mut route) =
        setup("[[budgets]]\nname = \"usd\"\nscope = \"user\"\nmatch = \"ann\"\nusd = 5.0\nwindow = \"month\"\n");
    route.upstream_model = "unpriced".into();
    let e = g
        .admit(&caller, &route, &mut json!({}), &record(), &prices)
        .unwrap_err();
    assert!(
        matches!(e, CallError::Forbidden(ref m) if m.contains("no price")),
        "{e:?}"
    );
}

/// A route's call reserves what its dearest deployment could cost (it may fall back to it),
/// and is refused when a deployment it may fall back to has no price.
#[test]
fn a_routed_call_reserves_for_its_dearest_fallback_and_an_unpriced_one_refuses() {
    let (g, prices, caller, route) = setup(
        "[[budgets]]\nname = \"team\"\nscope = \"team\"\nusd = 1.0\nwindow = \"day\"\n\
         [[prices]]\nprovider = \"openai\"\nmodel = \"dear\"\ninput = 10.0\noutput = 20.0\n",
    );
    let other = |model: &str| Route {
        upstream_model: model.into(),
        canonical: format!("openai/{model}"),
        ..route.clone()
    };
    let mut body = json!({"model": "m", "max_tokens": 50, "messages": []});
    let rec = record();
    let admission = g
        .admit_route(&caller, &route, &[other("dear")], &mut body, &rec, &prices)
        .unwrap()
        .unwrap();
    // 100 input tokens at $10/M + 50 output at $20/M = 2000 µ$ (the first deployment: 200).
    assert_eq!(
        reserved(&g),
        vec![("team usd team:data".to_string(), 0, 2000)]
    );
    drop(admission);
    let refused = g
        .admit_route(&caller, &route, &[other("free?")], &mut body, &rec, &prices)
        .unwrap_err();
    assert!(refused.to_string().contains("openai/free?"), "{refused}");
}
