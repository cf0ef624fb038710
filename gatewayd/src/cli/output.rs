//! Command output on stdout. `println!` panics when the reader has gone (`gatewayd dlp scan
//! --json big.txt | head`); a command whose reader left has nothing more to say, so it ends
//! quietly with status 0, as a tool killed by SIGPIPE would, and any other write error is
//! reported once and ends it with status 1.

use std::io::{ErrorKind, Write};

/// Writes one line to stdout (see the module doc for a closed pipe).
pub fn line(args: std::fmt::Arguments<'_>) {
    let result = writeln!(std::io::stdout().lock(), "{args}");
    finish_on_error(result);
}

/// Writes bytes to stdout as they are (see the module doc for a closed pipe).
pub fn bytes(data: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    let result = stdout.write_all(data).and_then(|()| stdout.flush());
    finish_on_error(result);
}

fn finish_on_error(result: std::io::Result<()>) {
    match result {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("gatewayd: writing to stdout: {e}");
            std::process::exit(1);
        }
    }
}

/// `println!` for command output: a closed pipe ends the command quietly.
macro_rules! out {
    () => {
        $crate::cli::output::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::cli::output::line(format_args!($($arg)*))
    };
}
