//! What the log phase costs per call: price the call, write its (unsubscribed) log line, bump
//! the metrics and queue its `ai_requests` row on an events sink, for a streamed call with a
//! full usage report. Run with `cargo run --release -p aigw --example settle_cost`.

use std::sync::Arc;
use std::time::Instant;

use aigw::call_log::{CallLog, CallRecord, Ledger};
use aigw::dialect::{Dialect, Usage};
use aigw::routes::RouteTable;

fn main() -> Result<(), String> {
    let mut aigw: config::AigwConfig = toml::from_str(
        "[[providers]]\nname = \"openai\"\nkind = \"openai\"\nbase_url = \"https://api.openai.com/v1\"\n\
         [[models]]\nname = \"gpt-4o-mini\"\nprovider = \"openai\"\n",
    )
    .map_err(|e| e.to_string())?;
    aigw.listen = None;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let n: u32 = 200_000;
    let (tx, mut rx) = tokio::sync::mpsc::channel(n as usize + 1);
    let drained = runtime.spawn(async move {
        let mut count = 0u32;
        while rx.recv().await.is_some() {
            count += 1;
        }
        count
    });
    let ledger = Arc::new(Ledger {
        prices: arc_swap::ArcSwap::from_pointee(aigw::prices::PriceTable::new(&aigw)?),
        metrics: aigw::telemetry::AiMetrics::new(&aigw),
        sink: Some(events::EventSink::new(tx, Arc::default())),
    });
    let route = RouteTable::new(&aigw).resolve("gpt-4o-mini");
    let _guard = runtime.enter();
    let started = Instant::now();
    for _ in 0..n {
        let mut record = CallRecord::new(
            "127.0.0.1:1".parse().map_err(|_| "addr")?,
            Dialect::OpenAi,
            "chat_completions",
        );
        record.route = route.clone();
        record.provider = Some("openai".into());
        record.model_asked = Some("gpt-4o-mini".into());
        record.model_served = Some("gpt-4o-mini-2024-07-18".into());
        record.stream = true;
        record.sent = true;
        record.usage = Usage {
            input: 1200,
            output: 300,
            cached: 1000,
            reported: true,
            ..Usage::default()
        };
        drop(CallLog::new(record, ledger.clone()));
    }
    let elapsed = started.elapsed();
    drop(ledger);
    let queued = runtime.block_on(drained).map_err(|e| e.to_string())?;
    println!(
        "{n} calls settled in {elapsed:?}: {:.2} µs per call (record built, priced, row queued); {queued} rows queued",
        elapsed.as_secs_f64() * 1e6 / f64::from(n)
    );
    Ok(())
}
