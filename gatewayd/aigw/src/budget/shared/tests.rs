//! The shared store against a real `redis-server` (Debian's; started per test on a free
//! port in a temporary directory): two stores on one Redis stand for two replicas.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;

/// A redis-server for one test, stopped on drop.
pub(crate) struct Redis {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Redis {
    pub(crate) fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        Self::on(port)
    }

    pub(crate) fn on(port: u16) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("redis-server could not start ({e}); install it: apt-get install -y redis-server"));
        let deadline = Instant::now() + Duration::from_secs(10);
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).unwrap();
        while Instant::now() < deadline {
            if let Ok(mut c) = client.get_connection_with_timeout(Duration::from_millis(200)) {
                if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                    return Self {
                        child,
                        port,
                        _dir: dir,
                    };
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("redis-server did not answer on port {port} within 10 s");
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A store on `url` whose budgets `team` and `rpm` (and the `[aigw.shared]` default) say
/// `on_down`.
fn store(url: &str, on_down: &str) -> SharedStore {
    let config: AigwConfig = toml::from_str(&format!(
        "[shared]\nredis = \"{url}\"\ntimeout = \"200ms\"\npool = 8\non_redis_down = \"{on_down}\"\n\
         local_allowance_percent = 10\n\
         [[budgets]]\nname = \"team\"\nscope = \"team\"\nusd = 1.0\nwindow = \"month\"\n"
    ))
    .unwrap();
    SharedStore::from_config(&config).unwrap().unwrap()
}

fn claim(key: &str, window: Window, limit: u64, amount: u64, hold: bool) -> Claim {
    Claim {
        key: key.into(),
        window,
        limit,
        amount,
        hold,
    }
}

/// Now, as the gateway would pass it (keys expire in Redis's time).
fn current() -> u64 {
    crate::budget::now_secs()
}

/// A counter as `s` reads it from Redis (a replica shows the counters it has used; this one
/// may not have).
fn view(s: &SharedStore, key: &str, now: u64) -> CounterView {
    let window = match key.split(' ').nth(1) {
        Some("requests_per_minute") => Window::Fixed(60),
        Some("concurrent") => Window::InFlight,
        _ if key.starts_with("d ") => Window::Rolling(3600),
        _ if key.starts_with("per-user") => Window::Day,
        _ => Window::Month,
    };
    s.remember(key, window);
    s.snapshot(now).into_iter().find(|c| c.key == key).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Two replicas, `n` calls at once split between them, a team budget for `k`: exactly
    /// `k` admitted, and once settled at most the budget spent.
    #[test]
    fn n_concurrent_calls_on_two_replicas_against_a_budget_for_k_admit_exactly_k(
        n in 1usize..16, k in 0u64..16, cost in 1u64..5_000, slack_frac in 0u64..100, used_frac in 0u64..=100,
    ) {
        let redis = Redis::start();
        let now = current();
        let replicas = [Arc::new(store(&redis.url(), "refuse")), Arc::new(store(&redis.url(), "refuse"))];
        let slack = cost * slack_frac / 100;
        let barrier = Arc::new(Barrier::new(n));
        let threads: Vec<_> = (0..n)
            .map(|i| {
                let (s, barrier) = (replicas[i % 2].clone(), barrier.clone());
                std::thread::spawn(move || {
                    let claims = [
                        claim("per-user usd user:u", Window::Day, MAX_EXACT, cost, true),
                        claim("team usd team:mkt", Window::Month, k * cost + slack, cost, true),
                    ];
                    barrier.wait();
                    s.reserve(&claims, now).ok()
                })
            })
            .collect();
        let got: Vec<Option<Vec<Held>>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let admitted: Vec<&Vec<Held>> = got.iter().flatten().collect();
        prop_assert_eq!(admitted.len() as u64, k.min(n as u64));
        let team = view(&replicas[0], "team usd team:mkt", now);
        prop_assert_eq!(team.reserved, admitted.len() as u64 * cost);
        // All or nothing across scopes: the user's counter holds exactly the same.
        let user = view(&replicas[1], "per-user usd user:u", now);
        prop_assert_eq!(user.reserved, admitted.len() as u64 * cost);
        let used = cost * used_frac / 100;
        for (i, held) in admitted.iter().enumerate() {
            replicas[i % 2].settle(held, &[used, used], now + 1);
        }
        let team = view(&replicas[1], "team usd team:mkt", now + 1);
        prop_assert_eq!(team.reserved, 0);
        prop_assert_eq!(team.spent, admitted.len() as u64 * used);
        prop_assert!(team.spent <= k * cost + slack);
    }
}

#[test]
fn a_rate_limit_is_one_count_across_replicas_and_its_window_expires() {
    let redis = Redis::start();
    let now = current();
    let (a, b) = (store(&redis.url(), "refuse"), store(&redis.url(), "refuse"));
    let rpm = |s: &SharedStore, now| {
        s.reserve(
            &[claim(
                "rpm requests_per_minute all:*",
                Window::Fixed(60),
                5,
                1,
                false,
            )],
            now,
        )
    };
    let t = now - now % 60;
    let admitted = (0..8)
        .filter(|i| rpm(if i % 2 == 0 { &a } else { &b }, t + 1).is_ok())
        .count();
    assert_eq!(admitted, 5);
    let refused = rpm(&a, t + 2).unwrap_err();
    assert_eq!(
        (refused.spent, refused.limit, refused.reset_at),
        (5, 5, t + 60)
    );
    assert!(!refused.held_only);
    // The next minute is a new period (its own key).
    assert!(rpm(&b, t + 61).is_ok());
}

#[test]
fn a_dead_replicas_slots_come_back_when_its_lease_expires() {
    let redis = Redis::start();
    let now = current();
    let (a, b) = (store(&redis.url(), "refuse"), store(&redis.url(), "refuse"));
    let cap = [claim("cap concurrent all:*", Window::InFlight, 1, 1, true)];
    let held = a.reserve(&cap, now).unwrap();
    assert_eq!(held[0].remaining, 0);
    assert!(
        b.reserve(&cap, now + 1).is_err(),
        "one slot, held by replica a"
    );
    // Replica a "dies" without settling: after its lease (an hour) the slot is free.
    let later = now + a.lease_secs + 1;
    let held_b = b.reserve(&cap, later).unwrap();
    // A late settlement of the expired lease takes nothing from b's.
    a.settle(&held, &[0], later);
    assert_eq!(view(&b, "cap concurrent all:*", later).reserved, 1);
    b.settle(&held_b, &[0], later);
    assert_eq!(view(&b, "cap concurrent all:*", later).reserved, 0);
}

#[test]
fn a_refusal_in_a_later_scope_gives_back_what_earlier_scopes_granted() {
    let redis = Redis::start();
    let now = current();
    let s = store(&redis.url(), "refuse");
    let claims = [
        claim("u usd user:ann", Window::Day, 1_000, 10, true),
        claim("team usd team:mkt", Window::Month, 5, 10, true),
    ];
    let refused = s.reserve(&claims, now).unwrap_err();
    assert_eq!(refused.index, 1);
    assert!(refused.never);
    let user = s.reserve(&claims[..1], now).unwrap();
    assert_eq!(
        user[0].remaining, 990,
        "the refused call's 10 were released"
    );
}

#[test]
fn settling_counts_what_was_used_in_the_period_granted_and_rolling_windows_forget() {
    let redis = Redis::start();
    let now = current();
    let (a, b) = (store(&redis.url(), "refuse"), store(&redis.url(), "refuse"));
    let day = claim("d tokens team:x", Window::Rolling(3600), 100, 80, true);
    let held = a.reserve(std::slice::from_ref(&day), now).unwrap();
    let levels = a.settle(&held, &[30], now + 5);
    assert_eq!(
        (levels[0].before, levels[0].after, levels[0].limit),
        (0, 30, 100)
    );
    assert_eq!(view(&b, "d tokens team:x", now + 5).spent, 30);
    // 70 left: 80 is refused, until the bucket leaves the rolling hour.
    let again = b.reserve(std::slice::from_ref(&day), now + 10).unwrap_err();
    assert_eq!(again.spent, 30);
    assert!(again.reset_at > now + 3600 && again.reset_at <= now + 3600 + 120);
    assert!(b.reserve(&[day], now + 3600 + 120).is_ok());
}

#[test]
fn seeding_from_ai_requests_counts_once_however_many_replicas_start() {
    let redis = Redis::start();
    let now = current();
    let (a, b) = (store(&redis.url(), "refuse"), store(&redis.url(), "refuse"));
    let (start, _) = Window::Month.period(now);
    a.seed("team usd team:mkt", Window::Month, 1_000, start, 700, now);
    b.seed("team usd team:mkt", Window::Month, 1_000, start, 700, now);
    assert_eq!(view(&a, "team usd team:mkt", now).spent, 700);
    let refused = b
        .reserve(
            &[claim("team usd team:mkt", Window::Month, 1_000, 400, true)],
            now,
        )
        .unwrap_err();
    assert_eq!(refused.spent, 700);
}

#[test]
fn scripts_flushed_from_redis_are_loaded_again() {
    let redis = Redis::start();
    let now = current();
    let s = store(&redis.url(), "refuse");
    let c = [claim(
        "rpm requests_per_minute all:*",
        Window::Fixed(60),
        10,
        1,
        false,
    )];
    s.reserve(&c, now).unwrap();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_connection().unwrap();
    redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query::<()>(&mut conn)
        .unwrap();
    assert_eq!(s.reserve(&c, now).unwrap()[0].remaining, 8);
    // Every key is under the prefix, and one scope's keys share one hash tag.
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut conn).unwrap();
    assert!(!keys.is_empty());
    assert!(
        keys.iter().all(|k| k.starts_with("warden:{all:*}:")),
        "{keys:?}"
    );
}

#[test]
fn redis_down_refuses_or_admits_within_the_local_allowance_as_configured_and_fast() {
    let now = current();
    // A port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://127.0.0.1:{port}");
    let c = [claim("team usd team:mkt", Window::Month, 100, 6, true)];

    let refuse = store(&url, "refuse");
    let started = Instant::now();
    let refused = refuse.reserve(&c, now).unwrap_err();
    assert!(refused.unavailable);
    // In backoff now: the next call does not even try.
    assert!(refuse.reserve(&c, now).unwrap_err().unavailable);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let h = refuse.shared_health().unwrap();
    assert_eq!((h.up, h.refused, h.local), (false, 2, 0));

    // Local: 10 % of 100 per replica → one call of 6, not two.
    let local = store(&url, "local");
    let held = local.reserve(&c, now).unwrap();
    assert!(held[0].local && held[0].lease == 0, "held in this process");
    let second = local.reserve(&c, now).unwrap_err();
    assert!(second.unavailable);
    local.settle(&held, &[2], now);
    assert!(
        local.reserve(&c, now).is_ok(),
        "2 + 6 within the allowance of 10"
    );
    assert_eq!(local.shared_health().unwrap().local, 2);
}

#[test]
fn redis_killed_mid_call_then_back_is_used_again_after_the_backoff() {
    let mut redis = Redis::start();
    let now = current();
    let port = redis.port;
    let s = store(&redis.url(), "refuse");
    let c = [claim("team usd team:mkt", Window::Month, 100, 10, true)];
    let held = s.reserve(&c, now).unwrap();
    redis.kill();
    // The settlement cannot reach Redis: counted, never a panic or a hang.
    let started = Instant::now();
    s.settle(&held, &[5], now);
    assert!(s.reserve(&c, now).unwrap_err().unavailable);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let h = s.shared_health().unwrap();
    assert!(!h.up && h.unsettled == 1, "{h:?}");
    // Redis back (empty, as after a crash): after the backoff, calls are counted there again.
    let _back = Redis::on(port);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if s.reserve(&c, now).is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "Redis never used again");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(s.shared_health().unwrap().up);
}

fn breakers(url: &str) -> crate::fallback::breaker::Breakers {
    let config: AigwConfig = toml::from_str(&format!(
        "[shared]\nredis = \"{url}\"\n[breaker]\nfailures = 3\nwindow = \"60s\"\ncooldown = \"30s\"\n"
    ))
    .unwrap();
    crate::fallback::breaker::Breakers::new(&config.breaker, ["openai/gpt-4o"].into_iter())
        .with_shared(breaker::SharedBreakers::from_config(&config.shared, &config.breaker).unwrap())
}

#[test]
fn a_breaker_opened_by_the_failures_of_two_replicas_is_open_on_both() {
    use crate::fallback::breaker::Gate;
    let redis = Redis::start();
    let (a, b) = (breakers(&redis.url()), breakers(&redis.url()));
    let dep = "openai/gpt-4o";
    // Two failures on a, one on b: three within the window open it — for both.
    assert!(!a.failure(dep, Gate::Closed));
    assert!(!a.failure(dep, Gate::Closed));
    assert_eq!(b.check(dep), Gate::Closed);
    assert!(
        b.failure(dep, Gate::Closed),
        "the third failure, on b, opens it"
    );
    for r in [&a, &b] {
        assert!(
            matches!(r.check(dep), Gate::Open { retry_in } if retry_in <= Duration::from_secs(30))
        );
    }
    // After the cooldown exactly one replica probes; a failed probe opens it again.
    fn shared(r: &crate::fallback::breaker::Breakers) -> &breaker::SharedBreakers {
        r.shared.as_ref().unwrap()
    }
    let later = breaker_now() + 31_000;
    assert_eq!(shared(&a).check_at(dep, later), Some(Gate::Probe));
    assert!(matches!(
        shared(&b).check_at(dep, later),
        Some(Gate::Open { .. })
    ));
    assert_eq!(shared(&a).failure_at(dep, Gate::Probe, later), Some(false));
    assert!(matches!(
        shared(&b).check_at(dep, later + 1),
        Some(Gate::Open { .. })
    ));
    // A success anywhere closes it everywhere.
    b.success(dep);
    assert_eq!(a.check(dep), Gate::Closed);
    // A deployment no route names is not keyed on Redis.
    assert_eq!(a.check("other/model"), Gate::Closed);
}

#[test]
fn a_breaker_falls_back_to_the_replicas_own_while_redis_is_down() {
    use crate::fallback::breaker::Gate;
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let b = breakers(&format!("redis://127.0.0.1:{port}"));
    let dep = "openai/gpt-4o";
    let started = Instant::now();
    for _ in 0..2 {
        assert!(!b.failure(dep, Gate::Closed));
    }
    assert!(
        b.failure(dep, Gate::Closed),
        "this replica's own count opens it"
    );
    assert!(matches!(b.check(dep), Gate::Open { .. }));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

fn breaker_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}
