//! Finding the binaries a scenario needs; a missing one fails the test with how to install it.

use std::path::PathBuf;

/// The path of an external tool, or a panic naming the package that provides it.
pub fn require(tool: &str, install: &str) -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let candidate = PathBuf::from(dir).join(tool);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!("`{tool}` is required by this test but is not installed; install it with: {install}");
}

/// A free local port (bound and released; the race is acceptable on a test machine).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The gatewayd binary built next to this test binary.
pub fn gatewayd_binary() -> PathBuf {
    built_binary("gatewayd", "WARDEN_GATEWAYD", "cargo build -p gatewayd")
}

/// The agent binary built next to this test binary.
pub fn agent_binary() -> PathBuf {
    built_binary("agent", "WARDEN_AGENT", "cargo build -p gatewayd -p agent")
}

/// `name` from the environment variable `var` when set, else next to this test binary
/// (target/<profile>/deps/e2e-xxxx → target/<profile>/NAME); `build` says how to make it.
fn built_binary(name: &str, var: &str, build: &str) -> PathBuf {
    if let Ok(path) = std::env::var(var) {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let binary = profile_dir.join(name);
    assert!(
        binary.is_file(),
        "{} is missing: build it first with `{build}` (the README's test command does)",
        binary.display()
    );
    binary
}
