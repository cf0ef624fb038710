//! "Anyone on the internet can reach our tunnel port": a stranger without a device certificate
//! floods it with enrollment streams that trickle bytes, hammers enrollment from one address,
//! sends made-up SNI, and idles; gatewayd's memory stays bounded, the excess is refused at
//! once, the certificate never changes, the visit ends, and real agents keep working.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::agent::{enroll, free_port, AgentProcess};
use crate::support::gateway::http_get;
use crate::support::raw_h2::{self, body_of, Event, Stranger, ENHANCE_YOUR_CALM, REFUSED_STREAM};
use crate::support::{curl, GatewayOptions, GatewayProcess, Origin};

struct Setup {
    dir: tempfile::TempDir,
    _origin: Origin,
    gw: GatewayProcess,
    tunnel: SocketAddr,
}

fn start(tunnel_keys: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let port = free_port();
    let gw = GatewayProcess::start(
        &origin,
        GatewayOptions {
            sections: format!("[tunnel]\nlisten = \"127.0.0.1:{port}\"\n{tunnel_keys}\n"),
            ..Default::default()
        },
    );
    let tunnel = gw.tunnel.expect("gatewayd reports its tunnel port");
    Setup {
        dir,
        _origin: origin,
        gw,
        tunnel,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// What one flooding connection saw.
#[derive(Debug, Default)]
struct Flood {
    answered: usize,
    refused: usize,
    goaway: Option<u32>,
    closed: bool,
}

/// Opens `streams` enrollment streams on one connection and trickles a chunk of a body that
/// never ends into each every second for `rounds` seconds, as the attacker did (each
/// stream stays under the 64 KiB enrollment body limit, so nothing is refused for size).
async fn flood(addr: SocketAddr, streams: u32, rounds: u32) -> Flood {
    let chunk = vec![b' '; 7_500];
    let Ok(mut stranger) = Stranger::connect(addr).await else {
        return Flood {
            closed: true,
            ..Flood::default()
        };
    };
    let ids: Vec<u32> = (0..streams).map(|i| 2 * i + 1).collect();
    let mut open = ids.len();
    for (n, id) in ids.iter().enumerate() {
        if stranger.post(*id, "/v1/enroll").await.is_err() {
            open = n;
            break;
        }
    }
    'rounds: for _ in 0..rounds {
        for id in &ids[..open] {
            if stranger.data(*id, &chunk, false).await.is_err() {
                break 'rounds;
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let mut seen = Flood::default();
    for event in stranger.drain(Duration::from_secs(1)).await {
        match event {
            Event::Headers { .. } => seen.answered += 1,
            Event::Reset { code, .. } if code == REFUSED_STREAM => seen.refused += 1,
            Event::GoAway { code } => seen.goaway = Some(code),
            Event::Closed => seen.closed = true,
            _ => {}
        }
    }
    seen
}

#[test]
fn a_flood_of_trickling_enroll_streams_is_refused_and_memory_stays_bounded() {
    let s = start("");
    let before = s.gw.memory_kib("VmRSS");
    let (peak, done) = (
        Arc::new(AtomicU64::new(before)),
        Arc::new(AtomicBool::new(false)),
    );
    let sampler = {
        let (peak, done, pid) = (peak.clone(), done.clone(), s.gw.pid());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if let Some(rss) = rss_kib(pid) {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let tunnel = s.tunnel;
    let floods = runtime().block_on(async move {
        let tasks: Vec<_> = (0..4)
            .map(|_| tokio::spawn(flood(tunnel, 1000, 8)))
            .collect();
        let mut floods = Vec::new();
        for task in tasks {
            floods.push(task.await.unwrap());
        }
        floods
    });
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let peak = peak.load(Ordering::Relaxed);
    eprintln!(
        "tunnel flood (4 connections x 1000 trickling enroll streams): gatewayd RSS {} KiB \
         before, {} KiB peak (+{} KiB); per connection: {floods:?}",
        before,
        peak,
        peak.saturating_sub(before)
    );
    assert!(
        peak.saturating_sub(before) < 60 * 1024,
        "gatewayd grew from {before} KiB to {peak} KiB"
    );
    for seen in &floods {
        assert!(
            seen.answered <= 2,
            "at most two streams per stranger's connection are served: {seen:?}"
        );
        assert!(
            seen.refused >= 1 && seen.goaway == Some(ENHANCE_YOUR_CALM),
            "streams past two are refused, and a client that keeps opening them is sent \
             away: {seen:?}"
        );
    }

    // Meanwhile, and after: the gateway serves, and a real laptop enrolls and browses.
    assert_eq!(
        http_get(s.gw.admin, "/healthz").map(|(status, _)| status),
        Some(200)
    );
    let state = s.dir.path().join("agent-state");
    enroll(&s.gw, s.tunnel, "alice", "staff", &state);
    let agent = AgentProcess::start(&state, &[]);
    agent.wait_connected(Duration::from_secs(10));
    let root = s.gw.root_pem.display().to_string();
    let page = curl(&[
        "-x",
        &agent.proxy_url(),
        "--cacert",
        &root,
        "https://chatgpt.com/c/after-the-flood",
    ]);
    assert_eq!(page.status, 200, "{}", page.stderr);
}

#[test]
fn enrollment_limits_refuse_at_once_and_a_strangers_visit_ends() {
    let s = start("enroll_max_in_flight = 2\nenroll_per_source_per_minute = 6");
    let tunnel = s.tunnel;
    runtime().block_on(async move {
        // Two enrollments whose bodies never finish hold both in-flight slots.
        let mut slow = Stranger::connect(tunnel).await.unwrap();
        slow.post(1, "/v1/enroll").await.unwrap();
        slow.post(3, "/v1/enroll").await.unwrap();
        slow.data(1, b"{\"tok", false).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;

        // A third, from another connection: refused at once, not queued.
        let mut busy = Stranger::connect(tunnel).await.unwrap();
        let sent = Instant::now();
        busy.post(1, "/v1/enroll").await.unwrap();
        let (at, _) = busy
            .wait_for(Duration::from_secs(2), |e| {
                *e == Event::Headers { stream: 1 }
            })
            .await
            .expect("an answer to the enrollment over the in-flight cap");
        assert!(at - sent < Duration::from_secs(1), "refused at once");
        let answer = busy.drain(Duration::from_millis(300)).await;
        assert!(
            body_of(&answer, 1).contains("too many enrollments in progress"),
            "{answer:?}"
        );

        // This address has now started 3 connections and 3 enrollments of its 6 a minute:
        // the next enrollment is refused for the rate, then connections are closed unserved.
        let mut limited = Stranger::connect(tunnel).await.unwrap();
        let sent = Instant::now();
        limited.post(1, "/v1/enroll").await.unwrap();
        let (at, _) = limited
            .wait_for(Duration::from_secs(2), |e| {
                *e == Event::Headers { stream: 1 }
            })
            .await
            .expect("an answer to the rate-limited enrollment");
        assert!(at - sent < Duration::from_secs(1), "refused at once");
        let answer = limited.drain(Duration::from_millis(300)).await;
        assert!(
            body_of(&answer, 1).contains("too many enrollment attempts"),
            "{answer:?}"
        );
        match Stranger::connect(tunnel).await {
            Err(_) => {}
            Ok(mut refused) => assert_eq!(
                refused
                    .wait_for(Duration::from_secs(2), |e| *e == Event::Settings)
                    .await,
                None,
                "a connection over the rate is closed before HTTP/2 starts"
            ),
        }

        // The slow bodies run out of time (5 s) and free their slots ...
        let timed_out = slow.drain(Duration::from_secs(7)).await;
        assert!(
            body_of(&timed_out, 1).contains("too slow")
                && body_of(&timed_out, 3).contains("too slow"),
            "{timed_out:?}"
        );
        // ... and the certificate-less connection itself ends after its 30 s visit.
        let closed = slow
            .wait_for(Duration::from_secs(40), |e| *e == Event::Closed)
            .await;
        let lived = slow.opened.elapsed();
        assert!(closed.is_some(), "still open after {lived:?}");
        assert!(
            lived >= Duration::from_secs(28) && lived < Duration::from_secs(36),
            "a stranger's connection lives about 30 s, this one {lived:?}"
        );
    });
    assert!(s
        .gw
        .wait_for_log("enrollment refused", Duration::from_secs(2)));
}

#[test]
fn the_tunnel_port_shows_one_certificate_whatever_the_sni() {
    let s = start("");
    let named = start("server_name = \"tunnel.warden.test\"");
    let (a, b, c, d) = runtime().block_on(async {
        let shown =
            |addr, sni: &'static str| async move { raw_h2::tls(addr, sni).await.unwrap().1 };
        (
            shown(s.tunnel, "evil.example").await,
            shown(s.tunnel, "bank.example").await,
            shown(s.tunnel, "127.0.0.1").await,
            shown(named.tunnel, "evil.example").await,
        )
    });
    assert_eq!(a, b, "a different SNI gets the same certificate");
    assert_eq!(a, c, "so does no SNI at all");
    let names = |der: &rustls_pki_types::CertificateDer<'_>, name: &str| {
        let cert = rustls::server::ParsedCertificate::try_from(der).unwrap();
        let name = rustls_pki_types::ServerName::try_from(name.to_owned()).unwrap();
        rustls::client::verify_server_name(&cert, &name).is_ok()
    };
    assert!(
        names(&a, "127.0.0.1") && !names(&a, "evil.example") && !names(&a, "bank.example"),
        "by default the certificate names the address the port listens on, not the SNI"
    );
    assert!(
        names(&d, "tunnel.warden.test") && !names(&d, "evil.example"),
        "or tunnel.server_name, never the name a client sent"
    );
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}
