//! The CPU check at start. The workspace builds x86-64 binaries for x86-64-v3 (see
//! `.cargo/config.toml`): on a CPU without those instructions the first one met would kill the
//! process with `SIGILL` and no word of why. `gatewayd` reads the CPU's flags first and, when
//! one is missing, says which and how to build for that CPU instead.

/// The flags (as `/proc/cpuinfo` spells them) this build was compiled to use; empty for a
/// build without them (another architecture, or built with `-C target-cpu=x86-64`).
const NEEDED: &[&str] = if cfg!(all(target_arch = "x86_64", target_feature = "avx2")) {
    &["avx", "avx2", "bmi1", "bmi2", "fma", "movbe"]
} else {
    &[]
};

/// An error naming the missing flags, when `/proc/cpuinfo` says this CPU lacks some of
/// `NEEDED`; nothing where the file is unreadable (not Linux): the build is then trusted.
pub fn check() -> Result<(), String> {
    match std::fs::read_to_string("/proc/cpuinfo") {
        Ok(info) => check_flags(&info),
        Err(_) => Ok(()),
    }
}

fn check_flags(cpuinfo: &str) -> Result<(), String> {
    let Some(flags) = cpuinfo.lines().find_map(|l| l.strip_prefix("flags")) else {
        return Ok(()); // no flags line: nothing to go by
    };
    let have: Vec<&str> = flags
        .trim_start_matches([' ', '\t', ':'])
        .split(' ')
        .collect();
    let missing: Vec<&str> = NEEDED
        .iter()
        .copied()
        .filter(|f| !have.contains(f))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "this build needs an x86-64-v3 CPU and this one lacks {}; build for it with \
         RUSTFLAGS=\"-C target-cpu=native\" cargo build --release -p gatewayd",
        missing.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_flags_are_named() {
        let modern = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 bmi1 bmi2 fma movbe\n";
        assert_eq!(check_flags(modern), Ok(()));
        assert_eq!(check_flags("processor\t: 0\n"), Ok(()));
        let old = "flags\t\t: fpu sse2 sse4_2 avx\n";
        if NEEDED.is_empty() {
            assert_eq!(check_flags(old), Ok(()));
        } else {
            let error = check_flags(old).unwrap_err();
            assert!(
                error.contains("lacks avx2, bmi1, bmi2, fma, movbe"),
                "{error}"
            );
        }
    }

    /// The machine running the tests runs this build.
    #[test]
    fn this_cpu_passes() {
        assert_eq!(check(), Ok(()));
    }
}
