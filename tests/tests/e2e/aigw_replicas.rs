//! "Many replicas, one truth" (issue 20): two gatewayd processes share one real
//! `redis-server` (`[aigw.shared] redis`). A team budget holds across both under a burst of
//! concurrent streamed calls from the official `openai` SDK (exactly the affordable number
//! admitted, whichever replica they reached); a requests-per-minute limit is one count across
//! both; and with Redis killed mid-run a budget that says `on_redis_down = "refuse"` answers
//! 503 while one that says `"local"` admits within its local allowance, each call still
//! logged, and `/metrics` says Redis is down.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::aigw::{fixtures, plan, python_with_sdks, with, AiGateway};
use crate::support::tools::gatewayd_binary;

/// Output at $100 per million tokens: a call with `max_tokens = 9` costs at most 900 µ$.
const PRICE: &str = r#"
[[aigw.prices]]
provider = "openai"
model = "gpt-4o-mini"
input = 0.0
cached_input = 0.0
cache_write = 0.0
output = 100.0
checked = "2026-12-07"
"#;
const CALL_MICRO_USD: u64 = 900;

/// A redis-server on a free port in a temporary directory, killed on drop.
struct Redis {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Redis {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("redis-server does not start ({e}): apt-get install -y redis-server")
            });
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("redis-server did not listen on {port}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            port,
            _dir: dir,
        }
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

/// A second gatewayd on a copy of `gw`'s directory (its config, master key, virtual and
/// provider keys), on ports of its own: another replica of the same gateway.
struct Replica {
    dir: tempfile::TempDir,
    child: Child,
    addr: SocketAddr,
    admin: String,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // What belongs to the running process, not to the gateway's configuration.
        if name == "listen.json" || name.ends_with(".lock") || name.ends_with(".log") {
            continue;
        }
        let target = to.join(&*name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn listening(state: &Path) -> Option<(SocketAddr, String)> {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("listen.json")).ok()?).ok()?;
    let addr: SocketAddr = v["aigw"].as_str()?.parse().ok()?;
    std::net::TcpStream::connect(addr).ok()?;
    Some((addr, v["admin"].as_str()?.to_string()))
}

impl Replica {
    fn of(gw: &AiGateway) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("warden-replica-")
            .tempdir()
            .unwrap();
        copy_dir(gw.dir.path(), dir.path());
        let log = std::fs::File::create(dir.path().join("gatewayd.log")).unwrap();
        let mut child = Command::new(gatewayd_binary())
            .args(["run", "--config", "gatewayd.toml"])
            .current_dir(dir.path())
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("gatewayd starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some((addr, admin)) = listening(&dir.path().join("state")) {
                return Self {
                    dir,
                    child,
                    addr,
                    admin,
                };
            }
            if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
                let _ = child.kill();
                let log =
                    std::fs::read_to_string(dir.path().join("gatewayd.log")).unwrap_or_default();
                panic!("the second replica did not start:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("gatewayd.log")).unwrap_or_default()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A gateway on `redis` with `shared` more lines in `[aigw.shared]`, and `rules`.
fn shared(redis: &Redis, shared: &str, rules: &str) -> AiGateway {
    AiGateway::start_with(&format!(
        "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n{PRICE}\
         [aigw.shared]\nredis = \"redis://127.0.0.1:{}\"\ntimeout = \"200ms\"\n{shared}\n{rules}",
        redis.port
    ))
}

/// Runs `plans` (each with its own `base`) at once with the real SDKs.
fn burst(plans: Vec<Value>) -> Vec<Value> {
    let mut child = Command::new(python_with_sdks())
        .arg(fixtures().join("aigw_burst.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Value::Array(plans).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn chat(addr: SocketAddr, key: &str) -> crate::support::curl::CurlResult {
    crate::support::curl(&[
        "-H",
        &format!("Authorization: Bearer {key}"),
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"model":"gpt-4o-mini","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}"#,
        &format!("http://{addr}/v1/chat/completions"),
    ])
}

fn admin_of(gw: &AiGateway) -> String {
    listening(&gw.dir.path().join("state")).unwrap().1
}

#[test]
fn a_team_budget_holds_across_two_replicas_under_a_burst_of_streamed_calls() {
    let redis = Redis::start();
    // Room for 3 calls and most of a 4th: never a 4th, on either replica.
    let budget = 4 * CALL_MICRO_USD - 1;
    let mut gw = shared(
        &redis,
        "",
        &format!(
            "[[aigw.budgets]]\nname = \"marketing\"\nscope = \"team\"\nmatch = \"marketing\"\n\
             usd = {}\nwindow = \"month\"\n",
            budget as f64 / 1e6
        ),
    );
    let key = gw.virtual_key(&["--name", "mkt-app", "--user", "mia", "--team", "marketing"]);
    let second = Replica::of(&gw);
    let plans: Vec<Value> = (0..10)
        .map(|i| {
            let addr = if i % 2 == 0 { gw.addr } else { second.addr };
            let p = with(
                plan("openai", &key, "gpt-4o-mini", "Say bonjour"),
                "stream",
                json!(true),
            );
            let p = with(p, "extra", json!({"max_tokens": 9}));
            with(p, "base", json!(format!("http://{addr}")))
        })
        .collect();
    let results = burst(plans);
    let admitted: Vec<&Value> = results.iter().filter(|r| r["ok"] == true).collect();
    assert_eq!(admitted.len(), 3, "{results:#?}\n{}", second.log());
    for r in &admitted {
        assert_eq!(r["text"], "Bonjour, café ☕ from mock-openai", "{r}");
    }
    for r in results.iter().filter(|r| r["ok"] != true) {
        assert_eq!(r["status"], 429, "{r}");
        let body = &r["body"];
        let error = if body["error"].is_object() {
            &body["error"]
        } else {
            body
        };
        assert_eq!(error["type"], "budget_exceeded", "{r}");
    }
    // Settled on Redis: either replica now sees the 3 calls' spend and refuses a 4th.
    for addr in [gw.addr, second.addr] {
        let refused = chat(addr, &key);
        assert_eq!(refused.status, 429, "{}", refused.body_text());
        assert!(
            refused.body_text().contains("$0.002700 spent"),
            "{}",
            refused.body_text()
        );
    }
    let metrics = crate::support::curl(&[&format!("http://{}/metrics", second.admin)]).body_text();
    assert!(metrics.contains("warden_aigw_shared_up 1"), "{metrics}");
}

#[test]
fn a_rate_limit_is_shared_and_redis_down_refuses_or_admits_locally_as_each_budget_says() {
    let mut redis = Redis::start();
    let mut gw = shared(
        &redis,
        "local_allowance_percent = 50",
        "[[aigw.limits]]\nname = \"org-rpm\"\nscope = \"all\"\nrequests_per_minute = 3\n\
         on_redis_down = \"local\"\n\
         [[aigw.budgets]]\nname = \"strict\"\nscope = \"team\"\nmatch = \"strict\"\nusd = 1.0\n\
         window = \"month\"\non_redis_down = \"refuse\"\n\
         [[aigw.budgets]]\nname = \"loose\"\nscope = \"team\"\nmatch = \"loose\"\nusd = 1.0\n\
         window = \"month\"\non_redis_down = \"local\"\n",
    );
    let strict = gw.virtual_key(&["--name", "s-app", "--user", "sam", "--team", "strict"]);
    let loose = gw.virtual_key(&["--name", "l-app", "--user", "lea", "--team", "loose"]);
    let second = Replica::of(&gw);
    // All three calls in one minute.
    let second_of_minute = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 60;
    if second_of_minute > 45 {
        std::thread::sleep(Duration::from_secs(61 - second_of_minute));
    }
    let first = chat(gw.addr, &loose);
    assert_eq!(first.status, 200);
    assert_eq!(chat(second.addr, &loose).status, 200);
    assert_eq!(chat(gw.addr, &strict).status, 200);
    let fourth = chat(second.addr, &loose);
    assert_eq!(
        fourth.status,
        429,
        "one count across replicas: {}",
        fourth.body_text()
    );
    assert!(
        fourth.body_text().contains("org-rpm"),
        "{}",
        fourth.body_text()
    );

    // Redis dies mid-run.
    redis.kill();
    let refused = chat(second.addr, &strict);
    assert_eq!(refused.status, 503, "{}", refused.body_text());
    let body: Value = serde_json::from_str(&refused.body_text()).unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("budget \"strict\" (team:strict)")
            && message.contains("cannot be reached"),
        "{message}"
    );
    // "local": half of each limit on each replica, counted there — one call of the
    // 3-a-minute limit on this replica, then refused saying why; never admitted uncounted.
    let local = chat(gw.addr, &loose);
    assert_eq!(local.status, 200, "{}", local.body_text());
    // The call lines say where each call was counted.
    let line =
        |r: &crate::support::curl::CurlResult| gw.call_line(r.header("x-request-id").unwrap());
    assert_eq!(crate::aigw::field(&line(&first), "counters"), "redis");
    assert_eq!(crate::aigw::field(&line(&local), "counters"), "local");
    let spent = chat(gw.addr, &loose);
    assert_eq!(spent.status, 503, "{}", spent.body_text());
    assert!(
        spent.body_text().contains("local allowance"),
        "{}",
        spent.body_text()
    );
    let metrics = crate::support::curl(&[&format!("http://{}/metrics", second.admin)]).body_text();
    assert!(metrics.contains("warden_aigw_shared_up 0"), "{metrics}");
    assert!(
        metrics.contains("warden_aigw_shared_refusals_total 1"),
        "{metrics}"
    );
    let health = crate::support::curl(&[&format!("http://{}/healthz", second.admin)]);
    assert_eq!(health.status, 200);
    assert!(
        health.body_text().contains("Redis unreachable"),
        "{}",
        health.body_text()
    );
    let metrics = crate::support::curl(&[&format!("http://{}/metrics", admin_of(&gw))]).body_text();
    // One call admitted locally: its request-rate reservation (before the body) and its
    // budget's (after).
    assert!(
        metrics.contains("warden_aigw_shared_local_reservations_total 2"),
        "{metrics}"
    );
    // Every call, refused or not, has its log line on the replica that served it.
    let deadline = Instant::now() + Duration::from_secs(5);
    while second.log().matches("ai call").count() < 3 || gw.log().matches("ai call").count() < 3 {
        assert!(Instant::now() < deadline, "{}\n{}", second.log(), gw.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_breaker_opened_by_one_replica_is_open_on_the_other() {
    let redis = Redis::start();
    let mut gw = AiGateway::start_extended(
        &format!(
            "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n\
             [aigw.shared]\nredis = \"redis://127.0.0.1:{}\"\n",
            redis.port
        ),
        |_, _| crate::aigw::Extra {
            aigw: "[aigw.breaker]\nfailures = 3\nwindow = \"60s\"\ncooldown = \"60s\"\n".into(),
            ..crate::aigw::Extra::default()
        },
    );
    // A deployment that always answers 503 (the openai mock's failing path), first in a route.
    let path = gw.dir.path().join("gatewayd.toml");
    let mut config = std::fs::read_to_string(&path).unwrap();
    config.push_str(&format!(
        "[[aigw.providers]]\nname = \"breaky\"\nkind = \"openai\"\n\
         base_url = \"http://127.0.0.1:{}/fail-503/v1\"\nkey = \"openai-prod\"\n\
         [[aigw.routes]]\nname = \"brk\"\n\
         targets = [{{ model = \"breaky/gpt-4o-mini\" }}, {{ model = \"openai/gpt-4o-mini\" }}]\n",
        gw.openai.port
    ));
    std::fs::write(&path, config).unwrap();
    gw.restart();
    let key = gw.virtual_key(&["--name", "app", "--user", "bob"]);
    let second = Replica::of(&gw);
    let failed = |gw: &AiGateway| {
        gw.openai
            .requests()
            .iter()
            .filter(|r| r["path"].as_str().unwrap_or("").starts_with("/fail-503/"))
            .count()
    };
    let call = |addr: SocketAddr| {
        crate::support::curl(&[
            "-H",
            &format!("Authorization: Bearer {key}"),
            "-H",
            "content-type: application/json",
            "-d",
            r#"{"model":"brk","messages":[{"role":"user","content":"hi"}]}"#,
            &format!("http://{addr}/v1/chat/completions"),
        ])
    };
    // Three calls on the first replica: each fails over from breaky, the third opens it.
    for _ in 0..3 {
        let r = call(gw.addr);
        assert_eq!(r.status, 200, "{}", r.body_text());
    }
    assert_eq!(failed(&gw), 3);
    // The second replica never saw breaky fail, yet skips it: the circuit is shared.
    for _ in 0..3 {
        let r = call(second.addr);
        assert_eq!(r.status, 200, "{}", r.body_text());
        assert!(r.body_text().contains("mock-openai"), "{}", r.body_text());
    }
    assert_eq!(
        failed(&gw),
        3,
        "the second replica called the open deployment\n{}",
        second.log()
    );
}
