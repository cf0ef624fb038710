//! "Our SRE team points Warden at their OpenTelemetry collector": with `[telemetry.otlp]` on,
//! every transaction through the proxy arrives at a real OTLP/HTTP receiver (parsed strictly
//! with the official `opentelemetry-proto` package) as a span with W3C ids, HTTP semantic
//! attributes and Warden's decision; a refusal is an error span that names the rule and the
//! DLP detectors, never the data. A collector that is down or stuck costs no request, only
//! counted spans; with export off nothing ever connects to it; and the collector's credentials
//! never reach the log.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::curl::CurlResult;
use crate::support::tools::{free_port, require};
use crate::support::{curl, GatewayOptions, GatewayProcess, Origin};

/// The collector's API key: it must reach the collector and never the log.
const SECRET: &str = "otlp-key-5f8a2c91d7e34b06";
/// A client's own trace context, which the origin must receive unchanged.
const CLIENT_TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// python3 with the official OpenTelemetry protos, or a failure that says how to get them.
fn python_with_otel() -> PathBuf {
    let python = require("python3", "apt-get install -y python3");
    let probe = Command::new(&python)
        .args(["-c", "import opentelemetry.proto, google.protobuf"])
        .output()
        .expect("python3 runs");
    assert!(
        probe.status.success(),
        "the official OpenTelemetry protos are required by this test; install them with: \
         pip install opentelemetry-proto (scripts/test.sh does)\n{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    python
}

/// The receiver process (tests/fixtures/otlp_receiver.py); killed on drop.
struct Receiver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Receiver {
    fn start(dir: &Path) -> Self {
        let python = python_with_otel();
        let port_file = dir.join("otlp.port");
        let log = dir.join("otlp.requests.jsonl");
        let child = Command::new(python)
            .arg(fixtures().join("otlp_receiver.py"))
            .arg(&port_file)
            .arg(&log)
            .arg(format!("Bearer {SECRET}"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the OTLP receiver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        let port = loop {
            if let Some(port) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|p| p.trim().parse().ok())
            {
                break port;
            }
            assert!(Instant::now() < deadline, "the OTLP receiver did not start");
            std::thread::sleep(Duration::from_millis(50));
        };
        Self { child, port, log }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/v1/traces", self.port)
    }

    /// Every export request received, as the receiver parsed it.
    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn spans(&self) -> Vec<Value> {
        self.requests()
            .iter()
            .flat_map(|r| r["spans"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    /// Waits for the span that `pick` chooses.
    fn wait_for_span(&self, what: &str, pick: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(span) = self.spans().into_iter().find(|s| pick(s)) {
                return span;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} span in 10 s; received: {:#?}",
                self.requests()
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

/// `[telemetry.otlp]` on, sending to `endpoint` with the secret header, plus `extra` lines.
fn otlp_on(endpoint: &str, extra: &str) -> GatewayOptions {
    GatewayOptions {
        sections: format!(
            "[telemetry.otlp]\nenabled = true\nendpoint = \"{endpoint}\"\n\
             service_name = \"gatewayd-e2e\"\nflush_interval = \"100ms\"\n{extra}\n\
             [telemetry.otlp.headers]\nauthorization = \"Bearer {SECRET}\"\n"
        ),
        ..Default::default()
    }
}

fn get(gw: &GatewayProcess, url: &str, extra: &[&str]) -> CurlResult {
    let root = gw.root_pem.display().to_string();
    let proxy = gw.proxy_url();
    let mut args = vec!["--http1.1", "-x", &proxy, "--cacert", &root];
    args.extend_from_slice(extra);
    args.push(url);
    curl(&args)
}

fn attr<'a>(span: &'a Value, key: &str) -> &'a Value {
    &span["attributes"][key]
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text.bytes().all(|b| b.is_ascii_hexdigit())
        && text.bytes().any(|b| b != b'0')
}

#[test]
fn a_request_through_the_proxy_is_one_span_in_its_tunnels_trace() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let receiver = Receiver::start(dir.path());
    let gw = GatewayProcess::start(&origin, otlp_on(&receiver.endpoint(), ""));

    let header = format!("traceparent: {CLIENT_TRACEPARENT}");
    let result = get(&gw, "https://chat.test/page", &["-H", &header]);
    assert_eq!(result.status, 200, "{}", result.stderr);
    // A forward proxy does not own its clients' traces: the origin gets theirs untouched.
    assert_eq!(
        result.header("x-origin-traceparent"),
        Some(CLIENT_TRACEPARENT)
    );
    let id = result.header("x-warden-request-id").unwrap().to_string();

    let request =
        receiver.wait_for_span("request", |s| attr(s, "warden.request_id") == id.as_str());
    assert_eq!(request["name"], "GET");
    assert_eq!(request["kind"], 2, "SPAN_KIND_SERVER");
    let trace_id = request["traceId"].as_str().unwrap();
    assert!(is_hex(trace_id, 32), "{trace_id}");
    assert!(is_hex(request["spanId"].as_str().unwrap(), 16));
    assert_ne!(
        trace_id, "4bf92f3577b34da6a3ce929d0e0e4736",
        "not the client's trace"
    );
    assert_eq!(attr(&request, "http.request.method"), "GET");
    assert_eq!(attr(&request, "url.scheme"), "https");
    assert_eq!(attr(&request, "server.address"), "chat.test");
    assert_eq!(attr(&request, "http.response.status_code"), 200);
    assert_eq!(attr(&request, "warden.action"), "allow");
    assert_eq!(attr(&request, "warden.refused"), false);
    assert_eq!(
        request["status"]["code"], 0,
        "success leaves the status unset"
    );
    assert!(
        attr(&request, "warden.user").is_null(),
        "the user is exported only with export_user"
    );
    let (start, end) = (
        request["start"].as_u64().unwrap(),
        request["end"].as_u64().unwrap(),
    );
    assert!(
        start > 1_600_000_000_000_000_000 && end >= start,
        "{start} {end}"
    );

    // The CONNECT tunnel it came through is its parent, in the same trace.
    let parent = request["parentSpanId"].as_str().unwrap().to_string();
    assert!(
        is_hex(&parent, 16),
        "a request inside a tunnel has a parent"
    );
    let tunnel = receiver.wait_for_span("tunnel", |s| s["spanId"] == parent.as_str());
    assert_eq!(tunnel["name"], "CONNECT");
    assert_eq!(tunnel["traceId"], trace_id);
    assert_eq!(attr(&tunnel, "server.address"), "chat.test");
    assert_eq!(attr(&tunnel, "server.port"), 443);
    assert!(attr(&tunnel, "client.address").is_null());

    for request in receiver.requests() {
        assert!(request["error"].is_null(), "strict parse failed: {request}");
        assert_eq!(request["auth_ok"], true, "the configured header is sent");
        assert_eq!(request["content_type"], "application/json");
        assert_eq!(request["resource"][0]["service.name"], "gatewayd-e2e");
    }
    assert!(gw.metric("warden_otlp_spans_exported_total") >= 2.0);
    assert!(
        !gw.log().contains(SECRET),
        "the collector's key is never logged"
    );
}

#[test]
fn a_refused_prompt_is_an_error_span_naming_the_rule_and_detectors_never_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let receiver = Receiver::start(dir.path());
    let gw = GatewayProcess::start(&origin, otlp_on(&receiver.endpoint(), ""));

    let card = "4539 1488 0343 6467";
    let body = serde_json::json!({ "prompt": format!("check card {card}"), "model": "m" });
    let result = get(
        &gw,
        "https://claude.ai/api/organizations/o/chat_conversations/c/completion",
        &[
            "-H",
            "Content-Type: application/json",
            "-d",
            &body.to_string(),
        ],
    );
    assert_eq!(result.status, 403, "{}", result.body_text());
    let id = result.header("x-warden-request-id").unwrap().to_string();

    let span = receiver.wait_for_span("refused request", |s| {
        attr(s, "warden.request_id") == id.as_str()
    });
    assert_eq!(span["name"], "POST");
    assert_eq!(span["status"]["code"], 2, "STATUS_CODE_ERROR: {span}");
    assert_eq!(span["status"]["message"], "dlp-until-approved");
    assert_eq!(attr(&span, "error.type"), "dlp-until-approved");
    assert_eq!(attr(&span, "warden.refused"), true);
    assert_eq!(attr(&span, "warden.rule"), "dlp-until-approved");
    assert_eq!(attr(&span, "http.response.status_code"), 403);
    assert_eq!(
        attr(&span, "warden.dlp.detectors"),
        &serde_json::json!(["credit_card"])
    );
    assert_eq!(attr(&span, "warden.app"), "claude");
    let received = std::fs::read_to_string(&receiver.log).unwrap();
    assert!(
        !received.contains("4539") && !received.contains("check card"),
        "no prompt or finding leaves in a span"
    );
}

#[test]
fn a_collector_that_is_down_or_stuck_costs_no_request_only_counted_spans() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    // Down: nothing listens on the port.
    let down = format!("http://127.0.0.1:{}/v1/traces", free_port());
    let gw = GatewayProcess::start(&origin, otlp_on(&down, "export_timeout = \"1s\""));
    for _ in 0..5 {
        assert_eq!(get(&gw, "https://chat.test/page", &[]).status, 200);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while gw.metric("warden_otlp_spans_dropped_total{reason=\"export_failed\"}") < 1.0 {
        assert!(
            Instant::now() < deadline,
            "no failed export counted:\n{}",
            gw.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(gw.metric("warden_otlp_export_failures_total") >= 1.0);
    assert_eq!(gw.metric("warden_otlp_spans_exported_total"), 0.0);
    assert!(gw.wait_for_log("OTLP export failed", Duration::from_secs(5)));
    assert!(
        !gw.log().contains(SECRET),
        "the collector's key is never logged"
    );
    drop(gw);

    // Stuck: it accepts connections and never answers. The queue is tiny and the timeout
    // long, so a request that waited on export would take seconds.
    let stuck = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}/v1/traces", stuck.local_addr().unwrap());
    let gw = GatewayProcess::start(
        &origin,
        otlp_on(
            &endpoint,
            "export_timeout = \"30s\"\nmax_queue = 4\nmax_batch = 2",
        ),
    );
    let started = Instant::now();
    for _ in 0..30 {
        assert_eq!(get(&gw, "https://chat.test/page", &[]).status, 200);
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(20), "30 requests took {took:?}");
    assert!(gw.metric("warden_otlp_spans_dropped_total{reason=\"queue_full\"}") > 0.0);
    assert!(!gw.log().contains(SECRET));
}

#[test]
fn with_export_off_nothing_connects_to_the_collector() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(dir.path());
    let collector = TcpListener::bind("127.0.0.1:0").unwrap();
    collector.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}/v1/traces", collector.local_addr().unwrap());
    let mut options = otlp_on(&endpoint, "");
    options.sections = options
        .sections
        .replace("enabled = true", "enabled = false");
    let gw = GatewayProcess::start(&origin, options);
    for _ in 0..3 {
        assert_eq!(get(&gw, "https://chat.test/page", &[]).status, 200);
    }
    std::thread::sleep(Duration::from_millis(500));
    match collector.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("export is off, yet something connected: {other:?}"),
    }
    let (_, metrics) = crate::support::gateway::http_get(gw.admin, "/metrics").unwrap();
    assert!(
        !metrics.contains("warden_otlp_"),
        "no exporter, no exporter metrics"
    );
}
