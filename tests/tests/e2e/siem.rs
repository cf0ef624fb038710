//! "Our SOC wants every block in its SIEM": with `[[siem.sinks]]`, a DLP block through the
//! proxy reaches Debian's `rsyslog` (a real receiver: plain TCP with a JSON payload, TLS with
//! CEF) as an RFC 5424 message it parses, carrying the masked snippet and never the card
//! number; Splunk HEC batches carry the token and webhook batches a valid HMAC signature
//! (checked by an independent Python receiver), admin actions included, from the dashboard
//! and from the CLI; and events made while rsyslog is down wait
//! on disk and arrive once each, in order, when it is back.

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::tools::{free_port, require};
use crate::support::{curl, GatewayOptions, GatewayProcess, Origin};

const CARD: &str = "4539 1488 0343 6467";
const CARD_DIGITS: &str = "4539148803436467";
const HEC_TOKEN: &str = "hec-token-7c1d2e9a4b5f6083";
const WEBHOOK_SECRET: &str = "whsec-3a9e1f7b2c8d4e60";
const PROVIDER_KEY: &str = "sk-proj-siemTEST0123456789abcdefghijklmnopqrstuv";

/// A master key file (0600) for `[keys] master_key = "file:..."`.
fn master_key_file(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let out = Command::new(crate::support::tools::gatewayd_binary())
        .args(["keys", "master-key"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let path = dir.join("master.key");
    std::fs::write(&path, String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn rsyslogd() -> PathBuf {
    for path in ["/usr/sbin/rsyslogd", "/sbin/rsyslogd"] {
        if Path::new(path).is_file() {
            return PathBuf::from(path);
        }
    }
    require(
        "rsyslogd",
        "apt-get install -y rsyslog rsyslog-gnutls (scripts/test.sh does)",
    )
}

/// An rsyslogd of the test's own: imtcp on a plain port (and a TLS one with `tls`), each
/// writing what it parsed (`version|app|msgid|structured data|msg`) to its own file.
struct Rsyslog {
    child: Child,
    dir: PathBuf,
}

impl Rsyslog {
    fn start(dir: &Path, plain: u16, tls: Option<u16>) -> Self {
        let bin = rsyslogd();
        let d = dir.display();
        let mut conf = format!(
            "global(workDirectory=\"{d}\" maxMessageSize=\"64k\")\n\
             module(load=\"imtcp\")\n\
             template(name=\"fields\" type=\"string\" string=\"%protocol-version%|%app-name%|%msgid%|%structured-data%|%msg%\\n\")\n\
             ruleset(name=\"plain\") {{ action(type=\"omfile\" file=\"{d}/plain.log\" template=\"fields\") }}\n\
             input(type=\"imtcp\" port=\"{plain}\" address=\"127.0.0.1\" ruleset=\"plain\")\n"
        );
        if let Some(port) = tls {
            let lib = Path::new("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so");
            assert!(
                lib.exists() || Path::new("/usr/lib/rsyslog/lmnsd_gtls.so").exists(),
                "rsyslog's TLS driver is required by this test; install it with: \
                 apt-get install -y rsyslog-gnutls"
            );
            conf.push_str(&format!(
                "ruleset(name=\"tls\") {{ action(type=\"omfile\" file=\"{d}/tls.log\" template=\"fields\") }}\n\
                 input(type=\"imtcp\" port=\"{port}\" address=\"127.0.0.1\" ruleset=\"tls\" \
                 streamDriver.name=\"gtls\" streamDriver.mode=\"1\" streamDriver.authMode=\"anon\" \
                 streamDriver.certFile=\"{d}/cert.pem\" streamDriver.keyFile=\"{d}/key.pem\")\n"
            ));
        }
        let conf_path = dir.join("rsyslog.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(bin)
            .arg("-n")
            .arg("-f")
            .arg(&conf_path)
            .arg("-i")
            .arg(dir.join("rsyslogd.pid"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("rsyslogd.err")).unwrap())
            .spawn()
            .expect("rsyslogd starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        for port in std::iter::once(plain).chain(tls) {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(Instant::now() < deadline, "rsyslogd did not listen in 20 s");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Self {
            child,
            dir: dir.to_path_buf(),
        }
    }

    fn lines(&self, file: &str) -> Vec<String> {
        std::fs::read_to_string(self.dir.join(file))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Waits until `file` holds `n` lines.
    fn wait_lines(&self, file: &str, n: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let lines = self.lines(file);
            if lines.len() >= n {
                return lines;
            }
            assert!(
                Instant::now() < deadline,
                "{file}: {} of {n} lines in 15 s: {lines:#?}",
                lines.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CA (`ca.pem`, what the sink trusts) and a leaf for `localhost` signed by it (the TLS
/// input's `cert.pem` + `key.pem`), made with openssl.
fn tls_cert(dir: &Path) {
    let openssl = require("openssl", "apt-get install -y openssl");
    let run = |args: &[&str]| {
        let output = Command::new(&openssl)
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=siem-test-ca"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.pem"]);
    ca.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
    ca.extend(["-addext", "keyUsage=critical,keyCertSign"]);
    run(&ca);
    let mut csr = vec!["req", "-new", "-subj", "/CN=localhost"];
    csr.extend(ec);
    csr.extend(["-keyout", "key.pem", "-out", "leaf.csr"]);
    run(&csr);
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
        "-out",
        "cert.pem",
    ]);
}

/// A card number in a prompt to an app in review: blocked by DLP (403).
fn leak_card(gw: &GatewayProcess, conversation: &str) {
    let root = gw.root_pem.display().to_string();
    let body =
        serde_json::json!({ "prompt": format!("card {CARD} exp 09/29"), "model": "claude-x" })
            .to_string();
    let url = format!(
        "https://claude.ai/api/organizations/o/chat_conversations/{conversation}/completion"
    );
    let result = curl(&[
        "-x",
        &gw.proxy_url(),
        "--cacert",
        &root,
        "-H",
        "Content-Type: application/json",
        "-d",
        &body,
        &url,
    ]);
    assert_eq!(result.status, 403, "{}", result.body_text());
}

/// Events recorded (and so tapped) with ClickHouse unreachable: they spool for ClickHouse
/// on their own, which this test does not look at.
fn gateway(origin: &Origin, sinks: &str) -> GatewayProcess {
    GatewayProcess::start(
        origin,
        GatewayOptions {
            sections: format!(
                "[clickhouse]\nurl = \"http://127.0.0.1:1\"\n\n[events]\nenabled = true\n\n{sinks}"
            ),
            ..Default::default()
        },
    )
}

/// The JSON payload of an rsyslog line (`version|app|msgid|sd|msg`).
fn payload(line: &str) -> Value {
    let msg = line.splitn(5, '|').nth(4).unwrap();
    serde_json::from_str(msg.trim_start_matches('\u{feff}')).unwrap()
}

#[test]
fn a_dlp_block_reaches_rsyslog_over_tcp_and_tls_masked_in_json_and_cef() {
    let dir = tempfile::tempdir().unwrap();
    tls_cert(dir.path());
    let (plain, tls) = (free_port(), free_port());
    let rsyslog = Rsyslog::start(dir.path(), plain, Some(tls));
    let origin = Origin::start(dir.path());
    let sinks = format!(
        "[[siem.sinks]]\nname = \"soc-json\"\nkind = \"syslog\"\nurl = \"tcp://127.0.0.1:{plain}\"\n\
         flush_interval = \"100ms\"\n\n\
         [[siem.sinks]]\nname = \"soc-cef\"\nkind = \"syslog\"\nurl = \"tls://localhost:{tls}\"\n\
         format = \"cef\"\nca_file = \"{}\"\nflush_interval = \"100ms\"\n",
        dir.path().join("ca.pem").display()
    );
    let gw = gateway(&origin, &sinks);
    leak_card(&gw, "c1");

    let json = rsyslog.wait_lines("plain.log", 1);
    let block = json
        .iter()
        .find(|l| l.contains("|block|"))
        .unwrap_or_else(|| panic!("no block event: {json:#?}"));
    // rsyslog parsed an RFC 5424 message: version 1, our app name, msgid and structured data.
    assert!(
        block.starts_with("1|warden|block|[warden@32473 id=\""),
        "{block}"
    );
    let event = payload(block);
    assert_eq!(event["kind"], "block");
    assert_eq!(event["security"], true);
    assert_eq!(event["host"], "claude.ai");
    let finding = &event["findings"][0];
    assert_eq!(finding["detector"], "credit_card", "{event}");
    let snippet = finding["snippet"].as_str().unwrap();
    assert!(snippet.contains('*'), "masked: {snippet}");

    let cef = rsyslog.wait_lines("tls.log", 1);
    let line = cef.iter().find(|l| l.contains("|block|")).unwrap();
    assert!(line.contains("CEF:0|Warden|gatewayd|"), "{line}");
    assert!(line.contains("|block|Request blocked|7|"), "{line}");
    assert!(
        line.contains("cs3Label=detectors cs3=credit_card"),
        "{line}"
    );
    assert!(line.contains("dhost=claude.ai"), "{line}");

    for file in ["plain.log", "tls.log"] {
        let text = rsyslog.lines(file).join("\n");
        assert!(
            !text.contains(CARD) && !text.contains(CARD_DIGITS),
            "{file} holds the card number in full: {text}"
        );
    }
    assert!(gw.metric("warden_siem_sent_total{sink=\"soc-json\"}") >= 1.0);
    assert!(gw.metric("warden_siem_sent_total{sink=\"soc-cef\"}") >= 1.0);
    assert_eq!(
        gw.metric("warden_siem_dropped_total{sink=\"soc-json\"}"),
        0.0
    );
}

/// The HTTP receiver (tests/fixtures/siem_receiver.py); killed on drop.
struct Receiver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Receiver {
    fn start(dir: &Path) -> Self {
        let python = require("python3", "apt-get install -y python3");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/siem_receiver.py");
        let port_file = dir.join("receiver.port");
        let log = dir.join("receiver.jsonl");
        let child = Command::new(python)
            .arg(script)
            .arg(&port_file)
            .arg(&log)
            .arg(WEBHOOK_SECRET)
            .stdout(Stdio::null())
            .spawn()
            .expect("the receiver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        let port = loop {
            if let Some(port) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|p| p.trim().parse().ok())
            {
                break port;
            }
            assert!(Instant::now() < deadline, "the receiver did not start");
            std::thread::sleep(Duration::from_millis(50));
        };
        Self { child, port, log }
    }

    fn requests(&self, path: &str) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|r| r["path"] == path)
            .collect()
    }

    fn wait(&self, path: &str, what: &str, pick: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(r) = self.requests(path).into_iter().find(|r| pick(r)) {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} on {path} in 15 s: {:#?}",
                self.requests(path)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn hec_batches_carry_the_token_and_webhook_batches_a_valid_signature() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path());
    let origin = Origin::start(dir.path());
    let token_file = dir.path().join("hec.token");
    std::fs::write(&token_file, format!("{HEC_TOKEN}\n")).unwrap();
    let secret_file = dir.path().join("webhook.secret");
    std::fs::write(&secret_file, WEBHOOK_SECRET).unwrap();
    for file in [&token_file, &secret_file] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let port = receiver.port;
    let sinks = format!(
        "[[siem.sinks]]\nname = \"splunk\"\nkind = \"hec\"\n\
         url = \"http://127.0.0.1:{port}/services/collector/event\"\n\
         secret_file = \"{}\"\nevents = [\"security\", \"transactions\"]\nflush_interval = \"100ms\"\n\n\
         [[siem.sinks]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:{port}/hook\"\n\
         secret_file = \"{}\"\nflush_interval = \"100ms\"\n",
        token_file.display(),
        secret_file.display()
    );
    let master = master_key_file(dir.path());
    let sinks = format!(
        "{sinks}\n[keys]\nmaster_key = \"file:{}\"\n",
        master.display()
    );
    let gw = gateway(&origin, &sinks);
    leak_card(&gw, "c1");
    // A key operation from the CLI, another process: exported from the audit trail.
    let mut add = Command::new(crate::support::tools::gatewayd_binary())
        .args([
            "keys",
            "add",
            "soc-test",
            "--provider",
            "openai",
            "--config",
        ])
        .arg(&gw.config_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(PROVIDER_KEY.as_bytes())
        .unwrap();
    let out = add.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // An admin action: a refused dashboard login is audited, and so exported.
    let login = curl(&[
        "-d",
        "token=not-a-token",
        &format!("http://{}/login", gw.admin),
    ]);
    assert_ne!(login.status, 303);

    let hec = receiver.wait("/services/collector/event", "HEC block", |r| {
        r["body"].as_str().unwrap().contains("\"kind\":\"block\"")
    });
    assert_eq!(
        hec["headers"]["authorization"],
        format!("Splunk {HEC_TOKEN}")
    );
    for line in hec["body"].as_str().unwrap().lines() {
        let object: Value = serde_json::from_str(line).unwrap();
        assert!(object["time"].as_f64().unwrap() > 1.7e9, "{object}");
        assert_eq!(object["source"], "warden-gatewayd");
        assert!(object["sourcetype"]
            .as_str()
            .unwrap()
            .starts_with("warden:"));
        assert!(object["event"]["id"].is_string());
    }

    let hook = receiver.wait("/hook", "webhook block", |r| {
        r["body"].as_str().unwrap().contains("\"kind\":\"block\"")
    });
    assert_eq!(hook["signature_ok"], true, "{hook}");
    assert!(hook["headers"].get("authorization").is_none());
    let audit = receiver.wait("/hook", "webhook login_refused", |r| {
        r["body"].as_str().unwrap().contains("login_refused")
    });
    assert_eq!(audit["signature_ok"], true);
    let body: Value = serde_json::from_str(audit["body"].as_str().unwrap()).unwrap();
    let event = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "login_refused")
        .unwrap();
    assert_eq!(event["kind"], "admin");
    assert!(event["id"].as_str().unwrap().starts_with("audit-"));

    let key_op = receiver.wait("/hook", "webhook key operation", |r| {
        r["body"].as_str().unwrap().contains("provider_key.add")
    });
    assert_eq!(key_op["signature_ok"], true);
    let body: Value = serde_json::from_str(key_op["body"].as_str().unwrap()).unwrap();
    let event = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "provider_key.add")
        .unwrap();
    assert_eq!(event["kind"], "key", "{event}");
    assert!(
        event["user"].as_str().unwrap().starts_with("cli:"),
        "{event}"
    );

    let everything = std::fs::read_to_string(&receiver.log).unwrap();
    assert!(!everything.contains(CARD) && !everything.contains(CARD_DIGITS));
    assert!(
        !everything.contains(PROVIDER_KEY),
        "the provider key was exported"
    );
    let log = gw.log();
    assert!(
        !log.contains(HEC_TOKEN) && !log.contains(WEBHOOK_SECRET),
        "a secret reached the log"
    );
}

#[test]
fn blocks_made_while_rsyslog_is_down_are_spooled_and_arrive_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let origin = Origin::start(dir.path());
    let sinks = format!(
        "[[siem.sinks]]\nname = \"soc\"\nkind = \"syslog\"\nurl = \"tcp://127.0.0.1:{port}\"\n\
         flush_interval = \"100ms\"\nretry_interval = \"500ms\"\ntimeout = \"2s\"\n"
    );
    let gw = gateway(&origin, &sinks);
    for n in 1..=3 {
        leak_card(&gw, &format!("down{n}"));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while gw.metric("warden_siem_spooled_total{sink=\"soc\"}") < 3.0 {
        assert!(Instant::now() < deadline, "not spooled:\n{}", gw.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(gw.metric("warden_siem_sent_total{sink=\"soc\"}"), 0.0);
    assert_eq!(gw.metric("warden_siem_spool_pending{sink=\"soc\"}"), 3.0);
    let (_, metrics) = crate::support::gateway::http_get(gw.admin, "/metrics").unwrap();
    assert!(metrics.contains("warden_siem_last_error{sink=\"soc\",kind=\"connect\"} 1"));

    let rsyslog = Rsyslog::start(dir.path(), port, None);
    rsyslog.wait_lines("plain.log", 3);
    leak_card(&gw, "up4");
    rsyslog.wait_lines("plain.log", 4);
    // Time for a duplicate to show up, if one were coming.
    std::thread::sleep(Duration::from_millis(500));
    let paths: Vec<String> = rsyslog
        .lines("plain.log")
        .iter()
        .map(|l| payload(l)["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths.len(), 4, "each event once: {paths:#?}");
    for (path, conversation) in paths.iter().zip(["down1", "down2", "down3", "up4"]) {
        assert!(path.contains(conversation), "in order: {paths:#?}");
    }
    assert_eq!(gw.metric("warden_siem_sent_total{sink=\"soc\"}"), 4.0);
    assert_eq!(gw.metric("warden_siem_spool_pending{sink=\"soc\"}"), 0.0);
    assert_eq!(gw.metric("warden_siem_dropped_total{sink=\"soc\"}"), 0.0);
}

#[test]
fn a_receiver_that_never_answers_costs_no_request_and_its_events_wait_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    // Accepts connections (the kernel's backlog) and never reads or answers.
    let tarpit = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = tarpit.local_addr().unwrap().port();
    let secret_file = dir.path().join("webhook.secret");
    std::fs::write(&secret_file, WEBHOOK_SECRET).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let origin = Origin::start(dir.path());
    let sinks = format!(
        "[[siem.sinks]]\nname = \"stuck\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:{port}/hook\"\n\
         secret_file = \"{}\"\nflush_interval = \"50ms\"\ntimeout = \"1s\"\nretry_interval = \"30s\"\n",
        secret_file.display()
    );
    let gw = gateway(&origin, &sinks);
    let started = Instant::now();
    for n in 0..10 {
        leak_card(&gw, &format!("t{n}"));
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "10 refused prompts took {took:?} with a stuck receiver"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while gw.metric("warden_siem_spooled_total{sink=\"stuck\"}") < 10.0 {
        assert!(Instant::now() < deadline, "not spooled:\n{}", gw.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, metrics) = crate::support::gateway::http_get(gw.admin, "/metrics").unwrap();
    assert!(
        metrics.contains("warden_siem_last_error{sink=\"stuck\",kind=\"timeout\"} 1"),
        "{metrics}"
    );
    assert_eq!(gw.metric("warden_siem_sent_total{sink=\"stuck\"}"), 0.0);
    assert_eq!(gw.metric("warden_siem_dropped_total{sink=\"stuck\"}"), 0.0);
    assert!(!gw.log().contains(WEBHOOK_SECRET));
    drop(tarpit);
}
