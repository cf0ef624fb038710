//! Insert throughput of the writer path alone: RowBinary + LZ4 inserts of `http_events` rows
//! into a private ClickHouse started by the testkit, with the rollup views on (as deployed).
//!
//! ```text
//! cargo run --release -p schema --features testkit --example insert_rate -- \
//!     [--rows 1000000] [--batch 100000] [--concurrency 1] [--no-compression] [--without-views]
//! ```
//!
//! Prints rows/s. A benchmark, not a test: nothing here asserts a speed.

use std::time::{Instant, SystemTime};

use schema::rows::unix_seconds;
use schema::testkit::ClickHouseServer;
use schema::{tables, HttpEvent};

struct Args {
    rows: usize,
    batch: usize,
    concurrency: usize,
    compression: bool,
    views: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        rows: 1_000_000,
        batch: 100_000,
        concurrency: 1,
        compression: true,
        views: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut number = |name: &str| -> Result<usize, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .filter(|&n| n > 0)
                .ok_or(format!("{name} needs a positive number"))
        };
        match flag.as_str() {
            "--rows" => args.rows = number("--rows")?,
            "--batch" => args.batch = number("--batch")?,
            "--concurrency" => args.concurrency = number("--concurrency")?,
            "--no-compression" => args.compression = false,
            "--without-views" => args.views = false,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// A varied but realistic row: 60 apps, 2,000 users, 1,500 devices, 12 countries.
fn sample(i: usize, now: u32) -> HttpEvent {
    const COUNTRIES: [&str; 12] = [
        "US", "DE", "FR", "GB", "IN", "BR", "JP", "NL", "ES", "IT", "CA", "AU",
    ];
    let app = i % 60;
    let mut event = HttpEvent {
        ts: now - (i % 3600) as u32,
        request_id: format!("019a{:028x}", i),
        user: format!("user{}@example.com", i % 2000),
        groups: vec!["staff".into(), format!("team-{}", i % 40)],
        device_id: if i.is_multiple_of(3) {
            String::new()
        } else {
            format!("dev-{:06}", i % 1500)
        },
        device_posture: "compliant".into(),
        src_ip: format!("10.{}.{}.{}", i % 256, (i / 256) % 256, i % 250 + 1),
        country: COUNTRIES[i % COUNTRIES.len()].into(),
        city: "Springfield".into(),
        host: format!("api.app{app}.example"),
        app_id: format!("app{app}"),
        app_name: format!("App {app}"),
        category: "genai_chat".into(),
        app_status: ["approved", "unapproved", "in_review", "unreviewed"][app % 4].into(),
        discovered: u8::from(app >= 55),
        method: if i.is_multiple_of(5) { "GET" } else { "POST" }.into(),
        status: if i.is_multiple_of(17) { 403 } else { 200 },
        action: if i.is_multiple_of(17) {
            "block"
        } else {
            "allow"
        }
        .into(),
        blocked: u8::from(i.is_multiple_of(17)),
        rule_id: format!("rule-{}", i % 25),
        policy_version: "sha256:5f1c0e".into(),
        upload: u8::from(i.is_multiple_of(50)),
        file_names: if i.is_multiple_of(50) {
            vec!["report.pdf".into()]
        } else {
            Vec::new()
        },
        prompt_length: (i % 4000) as u32,
        model: "gpt-4o".into(),
        dlp_detectors: if i.is_multiple_of(40) {
            vec!["email".into()]
        } else {
            Vec::new()
        },
        dlp_finding_count: u32::from(i.is_multiple_of(40)),
        bytes_up: (i % 20_000) as u64 + 300,
        bytes_down: (i % 90_000) as u64 + 1_000,
        latency_ms: (i % 900) as u32 + 20,
        ..HttpEvent::default()
    };
    event.set_path(&format!(
        "/backend-api/conversation/{:x}?model=gpt-4o",
        i * 7919
    ));
    event
}

async fn insert_batch(
    client: &clickhouse::Client,
    rows: &[HttpEvent],
) -> clickhouse::error::Result<()> {
    let mut insert = client.insert::<HttpEvent>(tables::HTTP_EVENTS).await?;
    for row in rows {
        insert.write(row).await?;
    }
    insert.end().await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let server = ClickHouseServer::start()?;
    println!("clickhouse-server ready in {:?}", server.startup_time());
    let mut options = server.options("bench");
    options.compression = args.compression;
    let client = schema::connect(&options)?;
    schema::Migrator::new(&client)?.migrate().await?;
    if !args.views {
        for view in tables::MATERIALIZED_VIEWS {
            client
                .query_raw(&format!("DROP TABLE {view}"))
                .execute()
                .await?;
        }
    }

    let now = unix_seconds(SystemTime::now());
    let pool: Vec<HttpEvent> = (0..args.batch.min(50_000))
        .map(|i| sample(i, now))
        .collect();
    let batches: Vec<Vec<HttpEvent>> = (0..args.rows.div_ceil(args.batch))
        .map(|b| {
            let n = args.batch.min(args.rows - b * args.batch);
            (0..n)
                .map(|i| pool[(b * args.batch + i) % pool.len()].clone())
                .collect()
        })
        .collect();

    let started = Instant::now();
    let mut queue = batches.into_iter();
    let mut running = tokio::task::JoinSet::new();
    loop {
        while running.len() < args.concurrency {
            let Some(batch) = queue.next() else { break };
            let client = client.clone();
            running.spawn(async move { insert_batch(&client, &batch).await });
        }
        match running.join_next().await {
            Some(done) => done??,
            None => break,
        }
    }
    let elapsed = started.elapsed();

    let stored: u64 = client
        .query("SELECT count() FROM http_events")
        .fetch_one()
        .await?;
    let rate = args.rows as f64 / elapsed.as_secs_f64();
    println!(
        "inserted {} rows in {:.2?} (batch {}, concurrency {}, lz4 {}, views {}): {:.0} rows/s; {} rows stored",
        args.rows, elapsed, args.batch, args.concurrency, args.compression, args.views, rate, stored
    );
    if stored != args.rows as u64 {
        return Err(format!("expected {} rows, found {stored}", args.rows).into());
    }
    Ok(())
}
