//! What the budget phase adds to a call: reserve on a team budget in dollars, a per-key
//! request rate limit and a per-key concurrency cap, then settle — against the same call with
//! nothing configured (`Governor::new` gives `None`, and the phase is one `if let`).
//! `cargo bench -p aigw --bench budget_phase`; the figures are in BENCHMARKS.md.

#![allow(clippy::expect_used)] // a bench: a broken setup should stop it loudly

use std::hint::black_box;
use std::sync::Arc;

use aigw::budget::Governor;
use aigw::call_log::CallRecord;
use aigw::cost::cost;
use aigw::dialect::Dialect;
use aigw::prices::PriceTable;
use aigw::routes::{Provider, Route};
use aigw::vkeys::Caller;
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;

fn config(governed: bool) -> config::AigwConfig {
    let text = format!(
        r#"
[[providers]]
name = "openai"
kind = "openai"
base_url = "https://api.openai.com/v1"
{}
"#,
        if governed {
            r#"
[[budgets]]
name = "marketing"
scope = "team"
match = "marketing"
usd = 1000000.0
window = "month"
[[limits]]
name = "per-key"
scope = "key"
requests_per_minute = 1000000000
concurrent = 100000
"#
        } else {
            ""
        }
    );
    toml::from_str(&text).expect("bench config")
}

fn bench(c: &mut Criterion) {
    let caller = Caller {
        key_id: "vk_0123456789".into(),
        key_name: "alice-laptop".into(),
        user: "alice".into(),
        team: Some("marketing".into()),
        models: Vec::new(),
        tags: vec!["pilot".into()],
    };
    let route = Route {
        provider: Arc::new(Provider {
            name: "openai".into(),
            kind: config::ProviderKind::Openai,
            dialect: Dialect::OpenAi,
            base_url: "https://api.openai.com/v1".into(),
            key: None,
            api_version: None,
            region: None,
            stream_usage: true,
        }),
        asked: "gpt-4o-mini".into(),
        canonical: "openai/gpt-4o-mini".into(),
        upstream_model: "gpt-4o-mini".into(),
    };
    let body = json!({"model": "gpt-4o-mini", "max_tokens": 256, "stream": true,
        "messages": [{"role": "user", "content": "Summarise the quarterly report in three bullet points."}]});
    let mut group = c.benchmark_group("budget_phase");
    for governed in [false, true] {
        let cfg = config(governed);
        let governor = Governor::new(&cfg).expect("rules");
        let prices = PriceTable::new(&cfg).expect("prices");
        let name = if governed {
            "budget+rate limit+concurrency: admit and settle"
        } else {
            "nothing configured"
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut record = CallRecord::new(
                    "127.0.0.1:1".parse().expect("addr"),
                    Dialect::OpenAi,
                    "chat_completions",
                );
                record.body_bytes = 180;
                let mut body = body.clone();
                if let Some(g) = &governor {
                    let admission = g
                        .admit(&caller, &route, &mut body, &record, &prices)
                        .expect("admitted");
                    record.sent = true;
                    record.usage.input = 21;
                    record.usage.output = 9;
                    record.usage.reported = true;
                    let price = prices.lookup(&route.provider, &route.upstream_model, None);
                    let c = cost(&record.usage, price, true);
                    if let Some(a) = admission {
                        a.settle(&record, &c);
                    }
                }
                black_box(body)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
