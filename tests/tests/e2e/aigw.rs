//! "We give people a sanctioned way to use AI" (issue 19, the AI gateway): an operator stores
//! the providers' keys once (`gatewayd keys add`), hands out virtual keys
//! (`gatewayd aigw keys create`), and people's code — the official `openai` and `anthropic`
//! Python SDKs, changing only their base URL — chats, streams and calls tools through Warden,
//! against mock providers (tests/fixtures/mock_*.py) that speak each wire format exactly,
//! streams cut at odd byte boundaries. Every call is logged with its user, model and tokens
//! as the provider reported them; a revoked key is refused at once, a card number never
//! leaves, and the provider keys appear in no output, log, error or state file.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::tools::{gatewayd_binary, require};

pub(crate) const OPENAI_KEY: &str = "sk-proj-MockOpenAiKey7fQ2xZ9rT4vB8nL1";
pub(crate) const ANTHROPIC_KEY: &str = "sk-ant-api03-MockAnthropicKey3kP8wQ5mR2";
const CARD: &str = "4539 1488 0343 6467";

pub(crate) fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// python3 that imports both SDKs, or a failure that says how to get them.
pub(crate) fn python_with_sdks() -> PathBuf {
    let python = require("python3", "apt-get install -y python3");
    let probe = Command::new(&python)
        .args(["-c", "import openai, anthropic"])
        .output()
        .expect("python3 runs");
    assert!(
        probe.status.success(),
        "the official OpenAI and Anthropic Python SDKs are required by this test; install them \
         with: pip install openai anthropic (scripts/test.sh does)\n{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    python
}

/// A mock provider process; killed on drop.
pub(crate) struct MockProvider {
    child: Child,
    pub(crate) port: u16,
    log: PathBuf,
}

impl MockProvider {
    pub(crate) fn start(python: &Path, dir: &Path, script: &str, key: &str) -> Self {
        let port_file = dir.join(format!("{script}.port"));
        let log = dir.join(format!("{script}.requests.jsonl"));
        let child = Command::new(python)
            .arg(fixtures().join(script))
            .arg(&port_file)
            .arg(&log)
            .arg(key)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the mock provider starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        let port = loop {
            if let Some(port) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|p| p.trim().parse().ok())
            {
                break port;
            }
            assert!(Instant::now() < deadline, "{script} did not start");
            std::thread::sleep(Duration::from_millis(50));
        };
        Self { child, port, log }
    }

    /// Every request the provider received (path, headers, body).
    pub(crate) fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for MockProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two mock providers and a gatewayd with `[aigw]` in front of them, keys made with the CLI.
pub(crate) struct AiGateway {
    pub(crate) dir: tempfile::TempDir,
    python: PathBuf,
    pub(crate) openai: MockProvider,
    pub(crate) anthropic: MockProvider,
    /// More providers' mocks (`start_extended`), kept running with the gateway.
    pub(crate) extra: Vec<MockProvider>,
    child: Option<Child>,
    pub(crate) addr: SocketAddr,
    /// Every line the CLI printed (stdout and stderr), to search for leaked keys.
    pub(crate) cli_output: String,
}

impl AiGateway {
    fn start() -> Self {
        Self::start_with("[clickhouse]\nurl = \"http://127.0.0.1:1\"\n[events]\nenabled = false\n")
    }

    /// Starts with `sections` (ClickHouse and events, prices ...) in the config.
    pub(crate) fn start_with(sections: &str) -> Self {
        Self::start_extended(sections, |_, _| Extra::default())
    }

    /// Starts with `proxy` as the `[proxy]` section's lines, `sections`, and `aigw` added
    /// inside `[aigw]` (keys, then sub-tables).
    pub(crate) fn start_full(proxy: &str, sections: &str, aigw: &str) -> Self {
        let (proxy, aigw) = (proxy.to_string(), aigw.to_string());
        Self::start_extended(sections, move |_, _| Extra {
            proxy: Some(proxy),
            aigw,
            ..Extra::default()
        })
    }

    /// Starts with `sections`, and `aigw` added to the `[aigw]` section.
    pub(crate) fn start_with_aigw(sections: &str, aigw: &str) -> Self {
        Self::start_full("listen = \"127.0.0.1:0\"", sections, aigw)
    }

    /// Starts with `sections`, and what `extra` adds (given python3 and the test's
    /// directory): more mock providers, `[proxy]` lines, lines inside `[aigw]`, `[aigw]`
    /// lines after the standard ones, and keys.
    pub(crate) fn start_extended(
        sections: &str,
        extra: impl FnOnce(&Path, &Path) -> Extra,
    ) -> Self {
        let python = python_with_sdks();
        let dir = tempfile::Builder::new()
            .prefix("warden-aigw-")
            .tempdir()
            .unwrap();
        let openai = MockProvider::start(&python, dir.path(), "mock_openai.py", OPENAI_KEY);
        let anthropic =
            MockProvider::start(&python, dir.path(), "mock_anthropic.py", ANTHROPIC_KEY);
        std::fs::create_dir(dir.path().join("state")).unwrap();
        let more = extra(&python, dir.path());
        let config = format!(
            r#"[proxy]
{proxy}
[admin]
listen = "127.0.0.1:0"
[state]
dir = "state"
{sections}
[keys]
master_key = "file:master.key"
[aigw]
listen = "127.0.0.1:0"
dlp_profile = "default"
on_match = "block"
{aigw}
[[aigw.providers]]
name = "openai"
kind = "openai"
base_url = "http://127.0.0.1:{o}/v1"
key = "openai-prod"
[[aigw.providers]]
name = "anthropic"
kind = "anthropic"
base_url = "http://127.0.0.1:{a}/v1"
key = "anthropic-prod"
[[aigw.models]]
name = "gpt-4o-mini"
provider = "openai"
aliases = ["fast"]
[[aigw.models]]
name = "claude"
provider = "anthropic"
model = "claude-sonnet-4-5"
{more_config}"#,
            o = openai.port,
            a = anthropic.port,
            more_config = more.config,
            proxy = more.proxy.as_deref().unwrap_or("listen = \"127.0.0.1:0\""),
            aigw = more.aigw,
        );
        std::fs::write(dir.path().join("gatewayd.toml"), config).unwrap();
        let mut this = Self {
            dir,
            python,
            openai,
            anthropic,
            extra: more.mocks,
            child: None,
            addr: "127.0.0.1:1".parse().unwrap(),
            cli_output: String::new(),
        };
        let master = this.cli(&["keys", "master-key"], "");
        write_private(&this.dir.path().join("master.key"), master.trim());
        this.cli(
            &["keys", "add", "openai-prod", "--provider", "openai"],
            OPENAI_KEY,
        );
        this.cli(
            &["keys", "add", "anthropic-prod", "--provider", "anthropic"],
            ANTHROPIC_KEY,
        );
        for (name, provider, secret) in &more.keys {
            this.cli(&["keys", "add", name, "--provider", provider], secret);
        }
        this.run();
        this
    }

    /// `gatewayd ARGS --config gatewayd.toml` with `stdin`; its stdout (it must succeed).
    pub(crate) fn cli(&mut self, args: &[&str], stdin: &str) -> String {
        let mut child = Command::new(gatewayd_binary())
            .args(args)
            .arg("--config")
            .arg("gatewayd.toml")
            .current_dir(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        self.cli_output.push_str(&stdout);
        self.cli_output.push_str(&stderr);
        assert!(out.status.success(), "gatewayd {args:?}: {stderr}");
        stdout
    }

    pub(crate) fn virtual_key(&mut self, args: &[&str]) -> String {
        let mut all = vec!["aigw", "keys", "create"];
        all.extend_from_slice(args);
        self.cli(&all, "").trim().to_string()
    }

    fn run(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("gatewayd.log")).unwrap();
        let child = Command::new(gatewayd_binary())
            .args(["run", "--config", "gatewayd.toml"])
            .current_dir(self.dir.path())
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("gatewayd starts");
        self.child = Some(child);
        let listen = self.dir.path().join("state/listen.json");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(addr) = std::fs::read_to_string(&listen)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .and_then(|v| v["aigw"].as_str().and_then(|a| a.parse().ok()))
            {
                if std::net::TcpStream::connect(addr).is_ok() {
                    self.addr = addr;
                    return;
                }
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("gatewayd exited with {status}:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "gatewayd not ready:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Stops gatewayd (SIGKILL: nothing is saved on the way out) and starts it again.
    pub(crate) fn restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(self.dir.path().join("state/listen.json"));
        self.run();
    }

    /// Sends `signal` (`HUP`, ...) to the running gatewayd.
    pub(crate) fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("gatewayd runs").id();
        let status = Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} {pid}");
    }

    /// Waits up to `limit` for gatewayd to exit (after a `signal`); true when it did.
    pub(crate) fn wait_exit(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut() {
                if child.try_wait().ok().flatten().is_some() {
                    self.child = None;
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// The running gatewayd's process id (to read its memory from /proc).
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().expect("gatewayd runs").id()
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("gatewayd.log")).unwrap_or_default()
    }

    /// The gateway's log line for one request id.
    pub(crate) fn call_line(&self, request_id: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(line) = self
                .log()
                .lines()
                .find(|l| l.contains("ai call") && l.contains(request_id))
            {
                return line.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "no call line for {request_id}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs the plans with the real SDKs; one result per plan.
    pub(crate) fn clients(&self, plans: Vec<Value>) -> Vec<Value> {
        self.clients_with("aigw_clients.py", plans)
    }

    /// Runs the plans with `script` (a fixture taking plans on stdin, as aigw_clients.py).
    pub(crate) fn clients_with(&self, script: &str, plans: Vec<Value>) -> Vec<Value> {
        let base = format!("http://{}", self.addr);
        let plans: Vec<Value> = plans
            .into_iter()
            .map(|mut p| {
                p["base"] = json!(base);
                p
            })
            .collect();
        let mut child = Command::new(&self.python)
            .arg(fixtures().join(script))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(Value::Array(plans.clone()).to_string().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "clients failed: {}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        let results: Vec<Value> = serde_json::from_str(&stdout).unwrap();
        assert_eq!(results.len(), plans.len());
        results
    }

    /// Nothing the test could see holds a provider key: CLI output, the gateway's log, what
    /// the clients got, the state directory's files.
    pub(crate) fn assert_no_provider_key_anywhere(&self, client_output: &str) {
        self.assert_no_key_anywhere(client_output, &[OPENAI_KEY, ANTHROPIC_KEY]);
    }

    /// The same for any `keys` (each at least 28 characters).
    pub(crate) fn assert_no_key_anywhere(&self, client_output: &str, keys: &[&str]) {
        let mut places = vec![
            ("cli output", self.cli_output.clone()),
            ("gatewayd log", self.log()),
            ("client output", client_output.to_string()),
        ];
        for entry in std::fs::read_dir(self.dir.path().join("state")).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                places.push((
                    "state file",
                    String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned(),
                ));
            }
        }
        for (place, text) in places {
            for key in keys {
                // The full key and its distinctive middle: neither may appear.
                assert!(
                    !text.contains(key) && !text.contains(&key[12..28]),
                    "a provider key leaked into the {place}:\n{text}"
                );
            }
        }
    }
}

impl Drop for AiGateway {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("--- gatewayd log ---\n{}", self.log());
            let kept = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap()).keep();
            eprintln!("artifacts kept in {}", kept.display());
        }
    }
}

/// `[[aigw.providers]]` for mock Gemini and Bedrock on `gemini_port` and `bedrock_port`
/// (keys `gemini-prod`, `bedrock-prod`) and their models `gem` and `haiku-bedrock`.
pub(crate) fn gemini_and_bedrock(gemini_port: u16, bedrock_port: u16) -> String {
    format!(
        r#"[[aigw.providers]]
name = "gemini"
kind = "gemini"
base_url = "http://127.0.0.1:{gemini_port}/v1beta"
key = "gemini-prod"
[[aigw.providers]]
name = "bedrock"
kind = "bedrock"
base_url = "http://127.0.0.1:{bedrock_port}"
region = "us-east-1"
key = "bedrock-prod"
[[aigw.models]]
name = "gem"
provider = "gemini"
model = "gemini-2.5-flash"
[[aigw.models]]
name = "haiku-bedrock"
provider = "bedrock"
model = "anthropic.claude-3-haiku-20240307-v1:0"
"#
    )
}

/// What `AiGateway::start_extended` adds to the standard gateway.
#[derive(Default)]
pub(crate) struct Extra {
    pub(crate) mocks: Vec<MockProvider>,
    /// Appended to the config after the standard `[[aigw.models]]`.
    pub(crate) config: String,
    /// The `[proxy]` section's lines (default: a loopback listener on a free port).
    pub(crate) proxy: Option<String>,
    /// Lines inside `[aigw]`, before its providers (keys, then sub-tables).
    pub(crate) aigw: String,
    /// `gatewayd keys add NAME --provider P` with each secret.
    pub(crate) keys: Vec<(String, String, String)>,
}

fn write_private(path: &Path, text: &str) {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

pub(crate) fn plan(sdk: &str, key: &str, model: &str, prompt: &str) -> Value {
    json!({"sdk": sdk, "key": key, "model": model, "prompt": prompt})
}

pub(crate) fn with(mut plan: Value, field: &str, value: Value) -> Value {
    plan[field] = value;
    plan
}

pub(crate) fn field(line: &str, name: &str) -> String {
    let start = line
        .find(&format!(" {name}="))
        .unwrap_or_else(|| panic!("no {name} in {line}"))
        + name.len()
        + 2;
    line[start..]
        .split(' ')
        .next()
        .unwrap()
        .trim_matches('"')
        .to_string()
}

#[test]
fn the_openai_sdk_chats_streams_and_calls_tools_through_warden_with_the_keys_the_org_holds() {
    let mut gw = AiGateway::start();
    let key = gw.virtual_key(&[
        "--name",
        "alice-laptop",
        "--user",
        "alice",
        "--team",
        "data",
    ]);
    let limited = gw.virtual_key(&[
        "--name",
        "intern",
        "--user",
        "bob",
        "--models",
        "fast",
        "--expires",
        "30d",
    ]);
    assert!(key.starts_with("wvk_") && limited.starts_with("wvk_"));
    // `gatewayd check` checks what the AI gateway needs: the master key and every
    // provider's key in the store.
    let checked = gw.cli(&["check"], "");
    assert!(checked.contains("aigw: listening on"), "{checked}");
    let config = std::fs::read_to_string(gw.dir.path().join("gatewayd.toml")).unwrap();
    std::fs::write(
        gw.dir.path().join("missing-key.toml"),
        config.replace("key = \"openai-prod\"", "key = \"nope\""),
    )
    .unwrap();
    let missing = Command::new(gatewayd_binary())
        .args(["check", "--config", "missing-key.toml"])
        .current_dir(gw.dir.path())
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    let why = String::from_utf8_lossy(&missing.stderr);
    assert!(
        why.contains("\"nope\"") && why.contains("not in the key store"),
        "{why}"
    );
    let listed = gw.cli(&["aigw", "keys", "list"], "");
    assert!(
        listed.contains("alice-laptop") && listed.contains("intern") && !listed.contains(&key[4..]),
        "{listed}"
    );

    let o = |prompt: &str| plan("openai", &key, "fast", prompt);
    let results = gw.clients(vec![
        o("hello"),
        with(o("hello"), "stream", json!(true)),
        with(
            with(o("hello"), "stream", json!(true)),
            "include_usage",
            json!(true),
        ),
        with(o("weather in Paris?"), "tools", json!(true)),
        with(
            with(o("weather in Paris?"), "tools", json!(true)),
            "stream",
            json!(true),
        ),
        json!({"sdk": "openai", "key": key, "op": "models"}),
        json!({"sdk": "openai", "key": limited, "op": "models"}),
        plan("openai", &limited, "openai/gpt-4o", "hello"),
        plan("openai", &key, "nope/model", "hello"),
        o("please rate-limit me"),
        o("echo-key"),
        o(&format!("my card is {CARD}, book the flight")),
        plan("openai", "wvk_forged", "fast", "hello"),
        o("echo-key-ok"),
    ]);
    let all = Value::Array(results.clone()).to_string();
    let [chat, stream, stream_usage, tools, tools_stream, models, limited_models, forbidden, unknown, limited429, echo, card, forged, echo_ok] =
        <[Value; 14]>::try_from(results).unwrap();
    // A good answer that echoes the provider key reaches the caller scrubbed.
    assert!(
        echo_ok["text"]
            .as_str()
            .unwrap_or("")
            .contains("[provider key]"),
        "{echo_ok}"
    );

    // Chat: the provider's answer, its usage and the model that served.
    assert_eq!(chat["text"], "Bonjour, café ☕ from mock-openai", "{chat}");
    assert_eq!(chat["usage"]["prompt_tokens"], 21);
    assert_eq!(chat["usage"]["completion_tokens"], 9);
    assert_eq!(chat["model"], "gpt-4o-mini-2024-07-18");
    let line = gw.call_line(chat["request_id"].as_str().unwrap());
    for (name, value) in [
        ("user", "alice"),
        ("team", "data"),
        ("provider", "openai"),
        ("model_asked", "fast"),
        ("model_served", "gpt-4o-mini-2024-07-18"),
        ("status", "200"),
        ("stream", "false"),
        ("input_tokens", "21"),
        ("output_tokens", "9"),
        ("cached_tokens", "5"),
    ] {
        assert_eq!(field(&line, name), value, "{name} in {line}");
    }
    assert!(
        !field(&line, "virtual_key_id").is_empty() && !line.contains(&key),
        "{line}"
    );

    // Streams: the same text; usage asked for upstream every time, shown only when asked.
    assert_eq!(stream["text"], chat["text"], "{stream}");
    assert_eq!(
        stream["usage_chunks"], 0,
        "no usage chunk the caller did not ask for: {stream}"
    );
    assert_eq!(stream_usage["usage_chunks"], 1, "{stream_usage}");
    assert_eq!(stream_usage["usage"]["prompt_tokens"], 21);
    let line = gw.call_line(stream["request_id"].as_str().unwrap());
    assert_eq!(
        (
            field(&line, "stream"),
            field(&line, "input_tokens"),
            field(&line, "output_tokens")
        ),
        ("true".into(), "21".into(), "9".into()),
        "{line}"
    );
    assert!(field(&line, "ttft_ms").parse::<u64>().is_ok(), "{line}");
    let upstream = gw.openai.requests();
    let streamed: Vec<&Value> = upstream
        .iter()
        .filter(|r| r["body"].as_str().unwrap().contains("\"stream\":true"))
        .collect();
    assert!(streamed.len() >= 3);
    for r in &streamed {
        let body: Value = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["stream_options"]["include_usage"], true, "{body}");
        assert_eq!(body["model"], "gpt-4o-mini");
    }
    for r in &upstream {
        assert_eq!(
            r["headers"]["authorization"],
            format!("Bearer {OPENAI_KEY}")
        );
    }

    // Tools, whole and streamed (arguments arrive in pieces and add up).
    assert_eq!(tools["finish"], "tool_calls");
    assert_eq!(
        serde_json::from_str::<Value>(tools["tool_args"][0].as_str().unwrap()).unwrap()["city"],
        "Paris"
    );
    assert_eq!(
        tools_stream["tool_names"],
        json!(["get_weather"]),
        "{tools_stream}"
    );
    assert_eq!(
        serde_json::from_str::<Value>(tools_stream["tool_args"][0].as_str().unwrap()).unwrap()
            ["city"],
        "Paris"
    );

    // What each key may use.
    assert_eq!(models["models"], json!(["gpt-4o-mini", "claude"]));
    assert_eq!(limited_models["models"], json!(["gpt-4o-mini"]));
    assert_eq!(
        (forbidden["error"].as_str(), forbidden["status"].as_u64()),
        (Some("PermissionDeniedError"), Some(403)),
        "{forbidden}"
    );
    assert_eq!(unknown["status"], 404, "{unknown}");
    assert_eq!(forged["error"], "AuthenticationError", "{forged}");
    assert!(
        forged["headers"]["x-warden-request-id"].is_string(),
        "every answer has a request id: {forged}"
    );

    // A provider's 429 reaches the caller with its retry-after; an error echoing the key does not.
    assert_eq!(
        (
            limited429["status"].as_u64(),
            limited429["headers"]["retry-after"].as_str()
        ),
        (Some(429), Some("7")),
        "{limited429}"
    );
    assert_eq!(echo["status"], 400, "{echo}");
    assert!(
        echo["message"].as_str().unwrap().contains("[provider key]"),
        "{echo}"
    );

    // DLP: the card number is refused by detector name and never reaches the provider.
    assert_eq!(card["status"], 403, "{card}");
    let message = card["message"].as_str().unwrap();
    assert!(
        message.contains("credit_card") && !message.contains("1488"),
        "{card}"
    );
    assert!(!gw
        .openai
        .requests()
        .iter()
        .any(|r| r["body"].as_str().unwrap().contains("1488")));
    assert!(!gw.log().contains("1488 0343"));

    // Revoked: refused by the running gateway on the very next call.
    let id = serde_json::from_str::<Value>(
        gw.cli(&["aigw", "keys", "list", "--json"], "")
            .lines()
            .find(|l| l.contains("alice-laptop"))
            .unwrap(),
    )
    .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    gw.cli(&["aigw", "keys", "revoke", &id], "");
    let after = gw.clients(vec![o("hello again")]);
    assert_eq!(
        (after[0]["error"].as_str(), after[0]["status"].as_u64()),
        (Some("AuthenticationError"), Some(401)),
        "{}",
        after[0]
    );
    let audit = std::fs::read_to_string(gw.dir.path().join("state/admin-audit.jsonl")).unwrap();
    assert!(
        audit.contains("aigw_key.create") && audit.contains("aigw_key.revoke"),
        "{audit}"
    );

    gw.assert_no_provider_key_anywhere(&format!("{all}{}", after[0]));
}

#[test]
fn anthropic_serves_openai_callers_and_anthropic_callers_reach_both_providers() {
    let mut gw = AiGateway::start();
    let key = gw.virtual_key(&["--name", "dev", "--user", "carol", "--team", "platform"]);
    let o = |model: &str, prompt: &str| plan("openai", &key, model, prompt);
    let a = |model: &str, prompt: &str| plan("anthropic", &key, model, prompt);
    let results = gw.clients(vec![
        // OpenAI SDK → Anthropic provider, by translation.
        o("claude", "hello"),
        with(
            with(o("claude", "hello"), "stream", json!(true)),
            "include_usage",
            json!(true),
        ),
        with(
            with(o("claude", "weather?"), "tools", json!(true)),
            "stream",
            json!(true),
        ),
        with(o("claude", "hello"), "extra", json!({"n": 2})),
        with(o("claude", "mid-stream-error"), "stream", json!(true)),
        // Anthropic SDK → Anthropic provider, natively.
        a("claude", "hello"),
        with(a("claude", "hello"), "stream", json!(true)),
        with(
            with(a("claude", "weather?"), "tools", json!(true)),
            "stream",
            json!(true),
        ),
        a("claude", "overloaded"),
        with(a("claude", "mid-stream-error"), "stream", json!(true)),
        // Anthropic SDK → OpenAI provider, by translation.
        a("fast", "hello"),
        with(a("fast", "hello"), "stream", json!(true)),
        with(
            with(a("fast", "weather?"), "tools", json!(true)),
            "stream",
            json!(true),
        ),
        with(
            a("fast", "hello"),
            "extra",
            json!({"thinking": {"type": "enabled", "budget_tokens": 1024}}),
        ),
        a("fast", &format!("card {CARD}")),
    ]);
    let all = Value::Array(results.clone()).to_string();
    let [o_chat, o_stream, o_tools, o_n, o_cut, a_chat, a_stream, a_tools, a_529, a_cut, x_chat, x_stream, x_tools, x_thinking, x_card] =
        <[Value; 15]>::try_from(results).unwrap();

    assert_eq!(
        o_chat["text"], "Bonjour, café ☕ from mock-anthropic",
        "{o_chat}"
    );
    assert_eq!(o_chat["finish"], "stop");
    // Anthropic's input_tokens (13) excludes cache reads (8) and writes (2): OpenAI's
    // prompt_tokens includes them.
    assert_eq!(o_chat["usage"]["prompt_tokens"], 23, "{o_chat}");
    assert_eq!(o_chat["usage"]["prompt_tokens_details"]["cached_tokens"], 8);
    assert_eq!(o_stream["text"], o_chat["text"], "{o_stream}");
    assert_eq!(
        (
            o_stream["usage"]["prompt_tokens"].as_u64(),
            o_stream["usage"]["completion_tokens"].as_u64()
        ),
        (Some(23), Some(9)),
        "{o_stream}"
    );
    assert_eq!(o_tools["finish"], "tool_calls", "{o_tools}");
    assert_eq!(o_tools["tool_names"], json!(["get_weather"]));
    assert_eq!(
        serde_json::from_str::<Value>(o_tools["tool_args"][0].as_str().unwrap()).unwrap()["city"],
        "Paris"
    );
    assert_eq!(o_n["status"], 400, "{o_n}");
    assert!(
        o_n["message"]
            .as_str()
            .unwrap()
            .contains("n cannot be translated"),
        "{o_n}"
    );
    assert!(
        o_cut["ok"] == false && o_cut["message"].as_str().unwrap().contains("Overloaded"),
        "{o_cut}"
    );

    assert_eq!(
        a_chat["text"], "Bonjour, café ☕ from mock-anthropic",
        "{a_chat}"
    );
    assert_eq!(
        (
            a_chat["usage"]["input_tokens"].as_u64(),
            a_chat["usage"]["cache_read_input_tokens"].as_u64()
        ),
        (Some(13), Some(8))
    );
    assert_eq!(a_stream["text"], a_chat["text"], "{a_stream}");
    assert_eq!(a_stream["usage"]["output_tokens"], 9);
    assert_eq!(
        (
            a_tools["stop"].as_str(),
            a_tools["tool_inputs"][0]["city"].as_str()
        ),
        (Some("tool_use"), Some("Paris")),
        "{a_tools}"
    );
    assert_eq!(a_529["status"], 529, "{a_529}");
    assert!(
        a_cut["ok"] == false && a_cut["message"].as_str().unwrap().contains("Overloaded"),
        "{a_cut}"
    );
    let line = gw.call_line(a_stream["request_id"].as_str().unwrap());
    for (name, value) in [
        ("user", "carol"),
        ("ingress", "anthropic"),
        ("provider", "anthropic"),
        ("input_tokens", "23"),
        ("cached_tokens", "8"),
        ("cache_write_tokens", "2"),
        ("output_tokens", "9"),
        ("status", "200"),
    ] {
        assert_eq!(field(&line, name), value, "{name} in {line}");
    }
    for r in gw.anthropic.requests() {
        assert_eq!(r["headers"]["x-api-key"], ANTHROPIC_KEY);
        assert!(
            r["headers"].get("authorization").is_none(),
            "the caller's key never goes upstream: {r}"
        );
    }

    assert_eq!(
        x_chat["text"], "Bonjour, café ☕ from mock-openai",
        "{x_chat}"
    );
    assert_eq!(x_chat["stop"], "end_turn");
    assert_eq!(
        (
            x_chat["usage"]["input_tokens"].as_u64(),
            x_chat["usage"]["cache_read_input_tokens"].as_u64()
        ),
        (Some(16), Some(5)),
        "{x_chat}"
    );
    assert_eq!(x_stream["text"], x_chat["text"], "{x_stream}");
    assert_eq!(
        (
            x_stream["usage"]["output_tokens"].as_u64(),
            x_stream["usage"]["input_tokens"].as_u64()
        ),
        (Some(9), Some(16)),
        "{x_stream}"
    );
    assert_eq!(
        (
            x_tools["stop"].as_str(),
            x_tools["tool_inputs"][0]["city"].as_str()
        ),
        (Some("tool_use"), Some("Paris")),
        "{x_tools}"
    );
    assert_eq!(x_thinking["status"], 400, "{x_thinking}");
    assert!(
        x_thinking["message"].as_str().unwrap().contains("thinking"),
        "{x_thinking}"
    );
    assert_eq!(
        (
            x_card["status"].as_u64(),
            x_card["body"]["error"]["type"].as_str()
        ),
        (Some(403), Some("permission_error")),
        "{x_card}"
    );

    gw.assert_no_provider_key_anywhere(&all);
}
