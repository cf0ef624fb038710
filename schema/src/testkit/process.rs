//! Starting, probing and stopping one `clickhouse-server` process, plus a watchdog that kills
//! it if the test process dies without running destructors (a killed or timed-out test run).

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::TestkitError;

/// Where the binary may be when it is not on `PATH` (Debian puts it in /usr/sbin).
const KNOWN_PATHS: [&str; 3] = [
    "/usr/bin/clickhouse-server",
    "/usr/sbin/clickhouse-server",
    "/usr/local/bin/clickhouse-server",
];

/// `$WARDEN_CLICKHOUSE_SERVER`, then `PATH`, then the usual install locations.
pub fn find_binary() -> Result<PathBuf, TestkitError> {
    if let Some(path) = std::env::var_os("WARDEN_CLICKHOUSE_SERVER") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(TestkitError::Missing)
        };
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join("clickhouse-server"));
    on_path
        .chain(KNOWN_PATHS.iter().map(PathBuf::from))
        .find(|p| p.is_file())
        .ok_or(TestkitError::Missing)
}

/// Two free loopback ports. The listeners are held until both are chosen so they differ; the
/// server binds them a moment later, and [`super::ClickHouseServer::start`] retries if another
/// process got there first.
pub fn free_ports() -> Result<(u16, u16), TestkitError> {
    let bind = || {
        TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .and_then(|l| Ok((l.local_addr()?.port(), l)))
            .map_err(TestkitError::io("choosing a free port"))
    };
    let (a, _hold_a) = bind()?;
    let (b, _hold_b) = bind()?;
    Ok((a, b))
}

/// Spawns the server with its output in `logs/`.
pub fn spawn(binary: &Path, root: &Path) -> Result<Child, TestkitError> {
    let out = File::create(root.join("logs/stdout.log"))
        .map_err(TestkitError::io("creating logs/stdout.log"))?;
    let err = File::create(root.join("logs/stderr.log"))
        .map_err(TestkitError::io("creating logs/stderr.log"))?;
    Command::new(binary)
        .arg(format!(
            "--config-file={}",
            root.join("config.xml").display()
        ))
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(TestkitError::io(format!("starting {}", binary.display())))
}

/// A shell loop that SIGKILLs `server` once this process is gone.
pub fn spawn_watchdog(server: u32) -> Option<Child> {
    let me = std::process::id();
    let script = format!(
        "while kill -0 {me} 2>/dev/null && kill -0 {server} 2>/dev/null; do sleep 1; done; \
         kill -9 {server} 2>/dev/null"
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()
}

/// Why waiting for readiness stopped.
pub enum NotReady {
    Exited(String),
    TimedOut,
}

/// Polls `GET /ping` until it answers `Ok.`, the child exits, or `limit` passes.
pub fn wait_ready(child: &mut Child, http_port: u16, limit: Duration) -> Result<(), NotReady> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(NotReady::Exited(status.to_string()));
        }
        if ping(http_port) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(NotReady::TimedOut);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// True when `GET /ping` on the HTTP port answers `Ok.`.
pub fn ping(http_port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, http_port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = "GET /ping HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.") && response.contains(" 200 ") && response.ends_with("Ok.\n")
}

/// Sends SIGTERM and waits up to `grace`, then SIGKILLs. Always reaps the child.
pub fn terminate(child: &mut Child, grace: Duration) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    kill(child);
}

/// SIGKILL and reap.
pub fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}
