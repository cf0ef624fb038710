//! The load generator of `bench/aigw.sh`: chat completions against one URL (the mock
//! directly, gatewayd's AI gateway, LiteLLM), one JSON line of results on stdout per run.
//!
//!   aigw-load seq    --url U --key K --model M --duration S       concurrency 1 (closed loop)
//!   aigw-load fixed  ... --rate R --duration S                     open loop at R req/s
//!   aigw-load max    ... --conns C --duration S                    closed loop, C at a time
//!   aigw-load stream ... --rate R --duration S                     open-loop SSE streams
//!   aigw-load hold   ... --n N --rate R --pids P1,P2               N open streams, then RSS
//!
//! Open loop: requests leave at fixed times (a pacing thread, not a timer wheel, so the
//! schedule keeps sub-millisecond precision) whatever the answers do, and each latency is
//! counted from the time its request was due, not from when it was sent: a server that stalls
//! is charged for every request that waited, which a closed loop would hide (coordinated
//! omission). Samples due in the first `--warmup` seconds (default 1) are left out.
//!
//! Never: assert on timings; it reports them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aigw_bench::{micros, Flags, Summary};
use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use http::{Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Map, Value};

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// What every mode needs: where to call, how, and the request body.
#[derive(Clone)]
struct Target {
    client: HttpClient,
    url: Uri,
    auth: Arc<str>,
    body: Bytes,
    timeout: Duration,
}

/// One finished call.
#[derive(Default)]
struct Sample {
    latency_us: u64,
    ok: bool,
    /// Streams: first content delta after the request was due, gaps between content deltas.
    ttft_us: Option<u64>,
    gaps_us: Vec<u64>,
    deltas: usize,
}

fn main() -> anyhow::Result<()> {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let flags = Flags::from_env(2);
    let threads: usize = flags.num("threads", 1)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()?;
    let stream = matches!(mode.as_str(), "stream" | "hold");
    let target = {
        let _guard = runtime.enter();
        target(&flags, stream)?
    };
    let mut out = Map::new();
    out.insert("mode".into(), mode.clone().into());
    out.insert("label".into(), flags.string("label", "").into());
    let duration = Duration::from_secs_f64(flags.num("duration", 10.0)?);
    let warmup = Duration::from_secs_f64(flags.num("warmup", 1.0)?);
    match mode.as_str() {
        "seq" => runtime.block_on(seq(&target, duration, warmup, &mut out)),
        "max" => {
            let conns: usize = flags.num("conns", 64)?;
            runtime.block_on(max(&target, conns, duration, warmup, &mut out))
        }
        "fixed" | "stream" => {
            let rate: f64 = flags.num("rate", 1000.0)?;
            let inflight: usize = flags.num("max-inflight", 20_000)?;
            fixed(
                &runtime, &target, rate, duration, warmup, inflight, &mut out,
            )
        }
        "hold" => {
            let n: usize = flags.num("n", 1000)?;
            let rate: f64 = flags.num("rate", 500.0)?;
            let pids = flags.string("pids", "");
            hold(&runtime, &target, n, rate, &pids, &mut out)
        }
        _ => bail!("usage: aigw-load seq|fixed|max|stream|hold --url U --key K --model M ..."),
    }?;
    println!("{}", Value::Object(out));
    // Open streams (hold) are dropped with the runtime, not drained.
    runtime.shutdown_background();
    Ok(())
}

fn target(flags: &Flags, stream: bool) -> anyhow::Result<Target> {
    let url: Uri = flags
        .get("url")
        .ok_or_else(|| anyhow!("--url is required"))?
        .parse()
        .context("--url")?;
    let model = flags.string("model", "bench-fast");
    let mut body = json!({"model": model, "max_tokens": 64,
        "messages": [{"role": "user", "content": "Say hello to the benchmark in one short sentence."}]});
    if stream {
        body["stream"] = true.into();
        body["stream_options"] = json!({"include_usage": true});
    }
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(120))
        .build(connector);
    Ok(Target {
        client,
        url,
        auth: format!("Bearer {}", flags.string("key", "sk-bench")).into(),
        body: Bytes::from(body.to_string()),
        timeout: Duration::from_secs_f64(flags.num("timeout", 10.0)?),
    })
}

/// One call, timed from `due`; streams are read event by event.
async fn call(target: &Target, due: Instant) -> Sample {
    let mut sample = Sample::default();
    let work = async {
        let request = Request::post(target.url.clone())
            .header("authorization", &*target.auth)
            .header("content-type", "application/json")
            .body(Full::new(target.body.clone()))
            .ok()?;
        let response = target.client.request(request).await.ok()?;
        let ok = response.status().is_success();
        let mut body = response.into_body();
        let mut pending: Vec<u8> = Vec::new();
        let mut last: Option<Instant> = None;
        while let Some(frame) = body.frame().await {
            let frame = frame.ok()?;
            let Some(data) = frame.data_ref() else {
                continue;
            };
            let now = Instant::now();
            pending.extend_from_slice(data);
            while let Some(end) = find(&pending, b"\n\n") {
                let event: Vec<u8> = pending.drain(..end + 2).collect();
                if find(&event, b"\"content\"").is_none() {
                    continue;
                }
                sample.deltas += 1;
                match last {
                    None => sample.ttft_us = Some(micros(now - due)),
                    Some(prev) => sample.gaps_us.push(micros(now - prev)),
                }
                last = Some(now);
            }
        }
        Some(ok)
    };
    let ok = matches!(
        tokio::time::timeout(target.timeout, work).await,
        Ok(Some(true))
    );
    sample.ok = ok;
    sample.latency_us = micros(due.elapsed());
    sample
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Concurrency 1: one call at a time on one kept-alive connection.
async fn seq(
    t: &Target,
    duration: Duration,
    warmup: Duration,
    out: &mut Map<String, Value>,
) -> anyhow::Result<()> {
    let start = Instant::now();
    let mut samples = Vec::new();
    while start.elapsed() < duration {
        let due = Instant::now();
        let s = call(t, due).await;
        if due >= start + warmup {
            samples.push(s);
        }
    }
    report(samples, duration.saturating_sub(warmup), out);
    Ok(())
}

/// Closed loop with `conns` calls in flight: the most the target answers.
// The workers are joined below, by their owner.
#[allow(clippy::disallowed_methods)]
async fn max(
    t: &Target,
    conns: usize,
    duration: Duration,
    warmup: Duration,
    out: &mut Map<String, Value>,
) -> anyhow::Result<()> {
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..conns {
        let t = t.clone();
        workers.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            while start.elapsed() < duration {
                let due = Instant::now();
                let s = call(&t, due).await;
                if due >= start + warmup && start.elapsed() < duration {
                    samples.push(s);
                }
            }
            samples
        }));
    }
    let mut samples = Vec::new();
    for w in workers {
        samples.extend(w.await?);
    }
    out.insert("conns".into(), conns.into());
    report(samples, duration.saturating_sub(warmup), out);
    Ok(())
}

/// Open loop: a call due every 1/rate s, each on its own task, timed from when it was due.
fn fixed(
    runtime: &tokio::runtime::Runtime,
    t: &Target,
    rate: f64,
    duration: Duration,
    warmup: Duration,
    max_inflight: usize,
    out: &mut Map<String, Value>,
) -> anyhow::Result<()> {
    let total = (rate * duration.as_secs_f64()) as u64;
    let samples = Arc::new(Mutex::new(Vec::with_capacity(total as usize)));
    let inflight = Arc::new(AtomicUsize::new(0));
    let (mut not_sent, mut late_us) = (0u64, Vec::new());
    let start = Instant::now() + Duration::from_millis(20);
    for i in 0..total {
        let due = start + Duration::from_nanos((i as f64 * 1e9 / rate) as u64);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        } else {
            late_us.push(micros(now - due));
        }
        if inflight.load(Ordering::Relaxed) >= max_inflight {
            not_sent += 1;
            continue;
        }
        inflight.fetch_add(1, Ordering::Relaxed);
        let (t, samples, inflight) = (t.clone(), samples.clone(), inflight.clone());
        let counted = due >= start + warmup;
        runtime.spawn(async move {
            let s = call(&t, due).await;
            if counted {
                if let Ok(mut v) = samples.lock() {
                    v.push(s);
                }
            }
            inflight.fetch_sub(1, Ordering::Relaxed);
        });
    }
    let deadline = Instant::now() + t.timeout + Duration::from_secs(1);
    while inflight.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    out.insert("rate".into(), rate.into());
    out.insert("not_sent".into(), not_sent.into());
    out.insert("unfinished".into(), inflight.load(Ordering::Relaxed).into());
    out.insert("sender_late".into(), late_us.len().into());
    Summary::of(&mut late_us).json("sender_late", out);
    let samples = std::mem::take(&mut *samples.lock().map_err(|_| anyhow!("poisoned"))?);
    report(samples, duration.saturating_sub(warmup), out);
    Ok(())
}

/// Opens `n` streams to a slow model, waits until each has its first delta, then reads the
/// resident memory of `pids` (summed) twice, a second apart, and keeps the larger.
fn hold(
    runtime: &tokio::runtime::Runtime,
    t: &Target,
    n: usize,
    rate: f64,
    pids: &str,
    out: &mut Map<String, Value>,
) -> anyhow::Result<()> {
    let pids: Vec<u32> = pids
        .split(',')
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    let before = rss_kb(&pids);
    let open = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    for i in 0..n {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let (t, open) = (t.clone(), open.clone());
        runtime.spawn(async move {
            let request = Request::post(t.url.clone())
                .header("authorization", &*t.auth)
                .header("content-type", "application/json")
                .body(Full::new(t.body.clone()));
            let Ok(request) = request else { return };
            let Ok(response) = t.client.request(request).await else {
                return;
            };
            let mut body = response.into_body();
            let mut counted = false;
            while let Some(Ok(frame)) = body.frame().await {
                if !counted
                    && frame
                        .data_ref()
                        .is_some_and(|d| find(d, b"\"content\"").is_some())
                {
                    open.fetch_add(1, Ordering::Relaxed);
                    counted = true;
                }
            }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while open.load(Ordering::Relaxed) < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    out.insert("open_after_s".into(), start.elapsed().as_secs_f64().into());
    std::thread::sleep(Duration::from_secs(1));
    let first = rss_kb(&pids);
    std::thread::sleep(Duration::from_secs(1));
    let second = rss_kb(&pids);
    out.insert("streams".into(), n.into());
    out.insert("open".into(), open.load(Ordering::Relaxed).into());
    out.insert("rss_before_kb".into(), before.into());
    out.insert("rss_kb".into(), first.max(second).into());
    Ok(())
}

/// Sum of VmRSS over `pids`, in kB.
fn rss_kb(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/status")).ok())
        .filter_map(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .sum()
}

/// Latency percentiles of the calls that succeeded; streams add TTFT and gaps.
fn report(samples: Vec<Sample>, window: Duration, out: &mut Map<String, Value>) {
    let ok = samples.iter().filter(|s| s.ok).count();
    out.insert("calls".into(), samples.len().into());
    out.insert("ok".into(), ok.into());
    out.insert("errors".into(), (samples.len() - ok).into());
    out.insert(
        "ok_per_s".into(),
        (ok as f64 / window.as_secs_f64().max(1e-9)).into(),
    );
    let mut latency: Vec<u64> = samples
        .iter()
        .filter(|s| s.ok)
        .map(|s| s.latency_us)
        .collect();
    Summary::of(&mut latency).json("latency", out);
    if samples.iter().any(|s| s.ttft_us.is_some()) {
        let mut ttft: Vec<u64> = samples.iter().filter_map(|s| s.ttft_us).collect();
        Summary::of(&mut ttft).json("ttft", out);
        let mut gaps: Vec<u64> = samples
            .iter()
            .flat_map(|s| s.gaps_us.iter().copied())
            .collect();
        // Gaps under 5 ms between deltas paced 20 ms apart: deltas that were held and sent
        // together, i.e. buffering.
        out.insert(
            "gaps_under_5ms".into(),
            gaps.iter().filter(|g| **g < 5_000).count().into(),
        );
        Summary::of(&mut gaps).json("gap", out);
        let short = samples.iter().filter(|s| s.deltas != 64).count();
        out.insert("streams_not_64_deltas".into(), short.into());
    }
}
